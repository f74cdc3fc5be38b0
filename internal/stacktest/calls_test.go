package stacktest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/devstack"
)

// gatewayStub serves /v1/decisions with the answers in turn (the last one
// again once they run out) and records the requests.
func gatewayStub(t *testing.T, answers ...func(http.ResponseWriter)) (*Stack, *[]api.DecisionRequest) {
	var got []api.DecisionRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req api.DecisionRequest
		if r.URL.Path != "/v1/decisions" || r.Header.Get("Authorization") != "Bearer tok-bob" ||
			json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		got = append(got, req)
		answers[min(len(got), len(answers))-1](w)
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return &Stack{Local: &devstack.Local{GatewayPort: p}, Tokens: map[string]string{"bob": "tok-bob"}}, &got
}

func answer(code int, outcome string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(api.Answer{Outcome: outcome})
	}
}

// Decide sends the same request again while the answer is pending or the
// gateway fails, and returns the first final answer.
func TestDecideRetriesUntilFinal(t *testing.T) {
	s, got := gatewayStub(t, answer(http.StatusAccepted, "pending"), answer(http.StatusBadGateway, ""),
		answer(http.StatusOK, "accepted"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := api.DecisionRequest{ReleaseID: "r1", Gate: "review", Verdict: "approve", RequestID: "rid-1"}
	code, a, err := s.Decide(ctx, "bob", req)
	if err != nil || code != http.StatusOK || a.Outcome != "accepted" {
		t.Fatalf("Decide = %d, %+v, %v; want 200 accepted", code, a, err)
	}
	if len(*got) != 3 || (*got)[0] != req || (*got)[2] != req {
		t.Errorf("the gateway got %+v, want the same request three times", *got)
	}
}

// DecideOnce takes the first answer, and wants it JSON.
func TestDecideOnce(t *testing.T) {
	s, got := gatewayStub(t, answer(http.StatusAccepted, "pending"), func(w http.ResponseWriter) {
		http.Error(w, "upstream down", http.StatusBadGateway)
	})
	code, a, err := s.DecideOnce(context.Background(), "bob", api.DecisionRequest{ReleaseID: "r1"})
	if err != nil || code != http.StatusAccepted || a.Outcome != "pending" || len(*got) != 1 {
		t.Fatalf("DecideOnce = %d, %+v, %v after %d requests", code, a, err, len(*got))
	}
	if _, _, err := s.DecideOnce(context.Background(), "bob", api.DecisionRequest{ReleaseID: "r1"}); err == nil {
		t.Error("a body that is no answer passed")
	}
}

// Retry gives up when its context ends and says what failed last.
func TestRetryEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	calls := 0
	_, err := Retry(ctx, func(context.Context) (int, error) { calls++; return 0, errNotYet })
	if err == nil || calls < 2 || !strings.Contains(err.Error(), "not yet") {
		t.Errorf("Retry = %v after %d calls", err, calls)
	}
}

var errNotYet = errors.New("not yet")
