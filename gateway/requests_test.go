package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/testkeys"
)

// A retried decision is the same Update: until its outcome is known it
// must carry the same bytes, or history may hold another request than the
// one the worker ran (issue 27). Before requests.go each retry was signed
// anew (its own time): this test failed with two different envelopes. The
// first delivery here is left pending (the server's wait ran out), the
// window the cache is for: an answered request's envelope is dropped
// (TestAnsweredUpdateReleasesItsEnvelope).
func TestRetriedDecisionSendsTheSameEnvelope(t *testing.T) {
	fake := &fakeClient{binding: signedBinding(), updateErr: stillRunning()}
	f := newSignedFixture(t, fake, nil)
	for i := range 2 {
		status, got, _ := f.post(t, "/v1/decisions", tokenAlice, goodBody)
		require.Equal(t, []int{202, 200}[i], status, "%v", got)
		fake.mu.Lock()
		fake.updateErr = nil // the retry is answered
		fake.mu.Unlock()
		time.Sleep(2 * time.Millisecond) // a new signature would carry another time
	}
	require.Len(t, fake.updates, 2)
	assert.Equal(t, fake.updates[0].UpdateID, fake.updates[1].UpdateID)
	assert.Equal(t, string(envelopeOf(t, fake.updates[0])), string(envelopeOf(t, fake.updates[1])),
		"two deliveries of one Update carry different requests")

	// Another request (another verdict, or another request id) is signed anew.
	status, _, _ := f.post(t, "/v1/decisions", tokenAlice, strings.Replace(goodBody, `"approve"`, `"reject"`, 1))
	require.Equal(t, 200, status)
	status, _, _ = f.post(t, "/v1/decisions", tokenAlice, strings.Replace(goodBody, `"r-1"`, `"r-2"`, 1))
	require.Equal(t, 200, status)
	require.Len(t, fake.updates, 4)
	for _, u := range fake.updates[2:] {
		assert.NotEqual(t, string(envelopeOf(t, fake.updates[0])), string(envelopeOf(t, u)))
	}
}

// stillRunning is the SDK's error for an Update whose wait ran out.
func stillRunning() error {
	return client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.DeadlineExceeded)
}

func TestRetriedCancelSendsTheSameEnvelope(t *testing.T) {
	fake := &fakeClient{binding: signedBinding(), updateErr: stillRunning()}
	f := newSignedFixture(t, fake, nil)
	body := `{"release_id":"` + releaseID + `","reason":"r","request_id":"c-1"}`
	for range 2 {
		f.post(t, "/v1/cancels", tokenAlice, body)
		fake.mu.Lock()
		fake.updateErr = nil
		fake.mu.Unlock()
		time.Sleep(2 * time.Millisecond)
	}
	require.Len(t, fake.updates, 2)
	assert.Equal(t, string(envelopeOf(t, fake.updates[0])), string(envelopeOf(t, fake.updates[1])))
}

// Once an Update's outcome is known (its result, or the workflow's
// refusal) the gateway keeps nothing of it: the server answers a retry by
// update id alone. Before, every envelope was kept an hour (about 1.1 MB
// of heap per 1,000 decisions): the approval role grew 30 % over the
// 1,000-release soak. A request left pending keeps its envelope.
func TestAnsweredUpdateReleasesItsEnvelope(t *testing.T) {
	refused := temporal.NewApplicationError("you authored this change", "author")
	cases := map[string]struct {
		err, failure error // from UpdateWorkflow; from its handle
		kept         int
	}{
		"answered":       {nil, nil, 0},
		"refused":        {nil, refused, 0},
		"still running":  {stillRunning(), nil, 1},
		"server is down": {serviceerror.NewUnavailable("history restarting"), nil, 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			fake := &fakeClient{binding: signedBinding(), updateErr: c.err, updateFailure: c.failure,
				outcomes: []api.DecisionOutcome{outcome(api.OutcomeAccepted)}}
			srv := New(Options{Client: fake, Policy: testPolicy(), Logger: slog.New(slog.DiscardHandler),
				DecisionWait: 100 * time.Millisecond, Signer: testkeys.Signer(attest.RoleApproval)})
			h := httptest.NewServer(srv.Handler())
			defer h.Close()
			f := &signedFixture{fake: fake, srv: h, slogs: &syncBuffer{}}
			f.post(t, "/v1/decisions", tokenAlice, goodBody)
			f.post(t, "/v1/cancels", tokenAlice, `{"release_id":"`+releaseID+`","reason":"r","request_id":"c-1"}`)
			require.Len(t, fake.updates, 2)
			srv.requests.mu.Lock()
			defer srv.requests.mu.Unlock()
			assert.Len(t, srv.requests.byKey, 2*c.kept)
			assert.Len(t, srv.requests.order, 2*c.kept)
			if c.kept == 0 {
				assert.Zero(t, srv.requests.bytes)
			}
		})
	}
}

func TestSignedRequestsBounded(t *testing.T) {
	s := newSignedRequests()
	now := time.Unix(1e9, 0)
	s.now = func() time.Time { return now }
	signs := 0
	sign := func() (attest.Envelope, error) { signs++; return attest.Envelope(fmt.Sprint(signs)), nil }
	for i := range maxRequests + 10 {
		_, err := s.once(string(rune(i)), sign)
		require.NoError(t, err)
	}
	assert.Len(t, s.byKey, maxRequests)
	assert.Len(t, s.order, maxRequests)
	env, _ := s.once(string(rune(maxRequests+9)), sign)
	assert.Equal(t, attest.Envelope(fmt.Sprint(maxRequests+10)), env, "a kept request is not signed again")
	assert.Equal(t, maxRequests+10, signs)

	now = now.Add(requestTTL)
	_, _ = s.once("late", sign)
	assert.Len(t, s.byKey, 1, "requests older than the TTL are dropped")

	_, err := s.once("fails", func() (attest.Envelope, error) { return nil, errors.New("no key") })
	assert.Error(t, err)
	assert.NotContains(t, s.byKey, "fails", "a failed signature is not kept")
}

// The kept requests are bounded in bytes as well as in number.
func TestSignedRequestsBoundedInBytes(t *testing.T) {
	s := newSignedRequests()
	big := attest.Envelope(strings.Repeat("x", 1<<20))
	for i := range 20 {
		_, err := s.once(fmt.Sprint(i), func() (attest.Envelope, error) { return big, nil })
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, s.bytes, maxRequestBytes)
	assert.Len(t, s.byKey, maxRequestBytes/(1<<20)-1, "the oldest are dropped first")
	assert.Contains(t, s.byKey, "19")
	s.answered("19")
	s.answered("19")
	assert.NotContains(t, s.byKey, "19")
	assert.NotContains(t, s.order, "19")
}
