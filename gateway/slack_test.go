package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/slackrec"
	"github.com/foureyes/foureyes/internal/testkeys"
	"github.com/foureyes/foureyes/policy"
)

const (
	slackSecret = "test-signing-secret"
	slackTeam   = "T0TEST"
	userBob     = "U0BOB0001"
	userAlice   = "U0ALICE01"
	releaseID   = "release-api-prod-1"
)

// syncBuffer is a log sink that the background click handling writes to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type slackFixture struct {
	fake     *fakeClient
	gw       *Server
	srv      *httptest.Server
	slackAPI *slackrec.Server
	logs     *syncBuffer
}

func newSlackFixture(t *testing.T, fake *fakeClient) *slackFixture {
	if fake.outcomes == nil {
		fake.outcomes = []api.DecisionOutcome{outcome(api.OutcomeAccepted)}
	}
	pol := testPolicy()
	pol.Humans[0].Slack, pol.Humans[1].Slack = userBob, userAlice
	slackAPI := slackrec.New(t)
	logs := &syncBuffer{}
	gw := New(Options{Client: fake, Policy: pol, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		DecisionWait: 100 * time.Millisecond,
		Slack: &SlackOptions{SigningSecret: slackSecret, TeamID: slackTeam,
			Client: slack.New("xoxb-test", slack.OptionAPIURL(slackAPI.URL()))}})
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(srv.Close)
	return &slackFixture{fake: fake, gw: gw, srv: srv, slackAPI: slackAPI, logs: logs}
}

func buttonValue(release, gate string) string {
	b, _ := json.Marshal(api.SlackButton{ReleaseID: release, Gate: gate, Prompt: "p1"})
	return string(b)
}

func click(user, action string) slackrec.Click {
	return slackrec.Click{Team: slackTeam, User: user, Channel: "C0PROD", MessageTS: "1700000000.000001",
		ActionID: action, Value: buttonValue(releaseID, "approval"), ActionTS: "1700000100.123456"}
}

// post sends body to /slack/interactions with the headers set by sign.
func (f *slackFixture) post(t *testing.T, query, body string, sign func(http.Header)) (int, time.Duration) {
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/slack/interactions"+query, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sign != nil {
		sign(req.Header)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

func signedNow(body string) func(http.Header) {
	return func(h http.Header) { slackrec.Sign(h, slackSecret, body, time.Now()) }
}

func (f *slackFixture) signals() []api.Decision {
	f.gw.WaitSlack()
	f.fake.mu.Lock()
	defer f.fake.mu.Unlock()
	return append([]api.Decision(nil), f.fake.signals...)
}

func TestSlackClickSignalsAsPolicyIdentity(t *testing.T) {
	f := newSlackFixture(t, &fakeClient{})
	body := click(userBob, api.SlackActionApprove).Body()
	status, _ := f.post(t, "", body, signedNow(body))
	require.Equal(t, http.StatusOK, status)
	sig := f.signals()
	require.Len(t, sig, 1)
	d := sig[0]
	assert.Equal(t, "bob", d.Identity)
	assert.Equal(t, api.ChannelSlack, d.Channel)
	assert.Equal(t, api.VerdictApprove, d.Verdict)
	assert.Equal(t, "approval", d.Gate)
	assert.True(t, strings.HasPrefix(d.RequestID, "bob/slack-"), d.RequestID)
	assert.Empty(t, f.slackAPI.Calls(slackrec.PostEphemeral), "an accepted click shows in the prompt, not privately")
	assert.Contains(t, f.logs.String(), "identity=bob")

	body = click(userBob, api.SlackActionReject).Body()
	status, _ = f.post(t, "", body, signedNow(body))
	require.Equal(t, http.StatusOK, status)
	assert.Len(t, f.signals(), 1, "a reject click asks for the reason first")
	require.Len(t, f.slackAPI.Calls(slackrec.ViewsOpen), 1)
}

func TestSlackRefusalsAnswerEphemeral(t *testing.T) {
	refused := api.DecisionOutcome{Outcome: api.OutcomeRefused, Rule: policy.RuleAuthor, Reason: "you authored this change"}
	closed := api.DecisionOutcome{Outcome: api.OutcomeGateClosed, Rule: api.RuleGateClosed, Reason: "gate approval is approved"}
	cases := []struct {
		name, user, identity string
		fake                 *fakeClient
		want                 string
	}{
		{"author refused", userAlice, "alice", &fakeClient{outcomes: []api.DecisionOutcome{refused}},
			"Your approve at the approval gate of release-api-prod-1 was refused: you authored this change (rule author)."},
		{"gate closed", userBob, "bob", &fakeClient{outcomes: []api.DecisionOutcome{closed}},
			"was not counted: gate approval is approved (rule gate_closed)."},
		{"unknown slack user", "U0NOBODY1", "slack:U0NOBODY1", &fakeClient{outcomes: []api.DecisionOutcome{
			{Outcome: api.OutcomeRefused, Reason: `unknown identity "slack:U0NOBODY1"`}}}, `was refused: unknown identity`},
		{"pending", userBob, "bob", &fakeClient{outcomes: []api.DecisionOutcome{outcome(api.OutcomePending)}},
			"not processed yet"},
		{"unknown release", userBob, "bob", &fakeClient{signalErr: notFound(), describeErr: notFound()},
			"was not recorded: unknown release."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newSlackFixture(t, c.fake)
			body := click(c.user, api.SlackActionApprove).Body()
			status, _ := f.post(t, "", body, signedNow(body))
			require.Equal(t, http.StatusOK, status)
			require.Len(t, f.signals(), 1)
			assert.Equal(t, c.identity, f.signals()[0].Identity, "the workflow judges (and records) every click")
			eph := f.slackAPI.Calls(slackrec.PostEphemeral)
			require.Len(t, eph, 1)
			assert.Equal(t, c.user, eph[0].User())
			assert.Equal(t, "C0PROD", eph[0].Channel())
			assert.Contains(t, eph[0].Text(), c.want)
		})
	}
}

// Slack's three seconds: the answer does not wait for Temporal.
func TestSlackAcksBeforeDeciding(t *testing.T) {
	slow := &slowClient{fakeClient: &fakeClient{}, delay: 2 * time.Second}
	f := newSlackFixture(t, slow.fakeClient)
	f.gw.client = slow
	body := click(userBob, api.SlackActionApprove).Body()
	status, took := f.post(t, "", body, signedNow(body))
	assert.Equal(t, http.StatusOK, status)
	assert.Less(t, took, time.Second)
	assert.Len(t, f.signals(), 1)
}

func notFound() error { return serviceerror.NewNotFound("no") }

type slowClient struct {
	*fakeClient
	delay time.Duration
}

func (s *slowClient) SignalWorkflow(ctx context.Context, id, run, name string, arg any) error {
	time.Sleep(s.delay)
	return s.fakeClient.SignalWorkflow(ctx, id, run, name, arg)
}

// A double delivery (Slack retry, re-signed) of one click counts once.
func TestSlackRedeliveryCountsOnce(t *testing.T) {
	f := newSlackFixture(t, &fakeClient{})
	body := click(userBob, api.SlackActionApprove).Body()
	status, _ := f.post(t, "", body, signedNow(body))
	require.Equal(t, http.StatusOK, status)
	retry := func(h http.Header) {
		slackrec.Sign(h, slackSecret, body, time.Now().Add(time.Second))
		h.Set("X-Slack-Retry-Num", "1")
	}
	status, _ = f.post(t, "", body, retry)
	require.Equal(t, http.StatusOK, status)
	assert.Len(t, f.signals(), 1)
}

func TestSlackRequestsRefused(t *testing.T) {
	good := click(userBob, api.SlackActionApprove)
	body := good.Body()
	withPayload := func(p string) string { return url.Values{"payload": {p}}.Encode() }
	wrongTeam := good
	wrongTeam.Team = "T0OTHER"
	badValue, badGate, other := good, good, good
	badValue.Value = "not json"
	badGate.Value = buttonValue(releaseID, "deploy")
	other.ActionID = "open_link"
	signedAt := func(b string, at time.Time) func(http.Header) {
		return func(h http.Header) { slackrec.Sign(h, slackSecret, b, at) }
	}
	cases := []struct {
		name, query, body string
		sign              func(http.Header)
		status            int
		log               string
	}{
		{"unsigned", "", body, nil, 401, "missing headers"},
		{"forged", "", body, func(h http.Header) { slackrec.Sign(h, "not-the-secret", body, time.Now()) }, 401, "invalid signature"},
		{"tampered body", "", strings.Replace(body, "approve", "reject", 1), signedNow(body), 401, "invalid signature"},
		{"stale", "", body, signedAt(body, time.Now().Add(-6*time.Minute)), 401, "timestamp"},
		{"future", "", body, signedAt(body, time.Now().Add(6*time.Minute)), 401, "timestamp"},
		{"bad timestamp", "", body, func(h http.Header) {
			slackrec.Sign(h, slackSecret, body, time.Now())
			h.Set("X-Slack-Request-Timestamp", "soon")
		}, 401, "signature"},
		{"payload smuggled in query", "?" + withPayload(good.Payload()), "foo=bar", signedNow("foo=bar"), 400, "exactly one payload"},
		{"two payloads", "", body + "&" + withPayload(good.Payload()), signedNow(body + "&" + withPayload(good.Payload())), 400, "exactly one payload"},
		{"malformed form", "", "payload=%zz", signedNow("payload=%zz"), 400, "malformed form body"},
		{"malformed json", "", withPayload("{"), signedNow(withPayload("{")), 400, "malformed payload JSON"},
		{"wrong team", "", wrongTeam.Body(), signedNow(wrongTeam.Body()), 403, "not the configured workspace"},
		{"not block_actions", "", withPayload(`{"type":"view_closed","team":{"id":"T0TEST"},"user":{"id":"U0BOB0001"}}`),
			signedNow(withPayload(`{"type":"view_closed","team":{"id":"T0TEST"},"user":{"id":"U0BOB0001"}}`)), 400, "only block_actions"},
		{"bad button value", "", badValue.Body(), signedNow(badValue.Body()), 400, "button value"},
		{"bad gate", "", badGate.Body(), signedNow(badGate.Body()), 400, "field gate"},
		{"another action", "", other.Body(), signedNow(other.Body()), 200, ""},
		{"too large", "", strings.Repeat("x", slackMaxBody+1), signedNow("x"), 413, "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newSlackFixture(t, &fakeClient{})
			status, _ := f.post(t, c.query, c.body, c.sign)
			assert.Equal(t, c.status, status)
			assert.Empty(t, f.signals(), "no signal")
			if c.log != "" {
				assert.Contains(t, f.logs.String(), "slack interaction refused")
				assert.Contains(t, f.logs.String(), c.log)
			}
			assert.NotContains(t, f.logs.String(), slackSecret)
		})
	}
}

func TestSlackReplayedSignatureIs401(t *testing.T) {
	f := newSlackFixture(t, &fakeClient{})
	body := click(userBob, api.SlackActionApprove).Body()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	same := func(h http.Header) {
		h.Set("X-Slack-Request-Timestamp", ts)
		h.Set("X-Slack-Signature", slackrec.Signature(slackSecret, ts, body))
	}
	status, _ := f.post(t, "", body, same)
	require.Equal(t, http.StatusOK, status)
	status, _ = f.post(t, "", body, same)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, f.logs.String(), "replayed request")
	assert.Len(t, f.signals(), 1)
}

func TestSlackRouteNeedsSigningSecret(t *testing.T) {
	srv := httptest.NewServer(New(Options{Client: &fakeClient{}, Logger: slog.New(slog.DiscardHandler)}).Handler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/slack/interactions", "application/x-www-form-urlencoded", strings.NewReader("payload={}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	f := newSlackFixture(t, &fakeClient{})
	resp, err = http.Get(f.srv.URL + "/slack/interactions")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// Socket Mode: a click arrives over the WebSocket, is acknowledged by its
// envelope id and decided like a signed HTTP click; a click from another
// team is acknowledged and dropped.
func TestSlackSocketMode(t *testing.T) {
	acks := make(chan string, 4)
	foreign := click(userBob, api.SlackActionApprove)
	foreign.Team = "T0OTHER"
	envelopes := []string{envelope("env-foreign", foreign), envelope("env-1", click(userBob, api.SlackActionApprove))}
	slackAPI := slackrec.New(t, func(c slacktest.Customize) {
		c.Handle("/ws", slacktest.Websocket(func(conn *websocket.Conn) { serveSocket(conn, envelopes, acks) }))
	})
	fake := &fakeClient{outcomes: []api.DecisionOutcome{outcome(api.OutcomeAccepted)}}
	gw := New(Options{Client: fake, Policy: testPolicy(), Logger: slog.New(slog.DiscardHandler),
		DecisionWait: 100 * time.Millisecond, Slack: &SlackOptions{TeamID: slackTeam}})
	gw.policy.Humans[0].Slack = userBob
	sm := socketmode.New(slack.New("xoxb-test", slack.OptionAPIURL(slackAPI.URL()), slack.OptionAppLevelToken("xapp-test")))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { gw.RunSocketMode(ctx, sm); close(done) }()
	for _, want := range []string{"env-foreign", "env-1"} {
		select {
		case got := <-acks:
			assert.Equal(t, want, got)
		case <-time.After(10 * time.Second):
			t.Fatal("no ack over the socket")
		}
	}
	require.Eventually(t, func() bool { fake.mu.Lock(); defer fake.mu.Unlock(); return len(fake.signals) == 1 },
		5*time.Second, 10*time.Millisecond)
	assert.Equal(t, "bob", fake.signals[0].Identity)
	assert.Equal(t, api.ChannelSlack, fake.signals[0].Channel)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("socket mode did not stop with its context")
	}
}

func envelope(id string, c slackrec.Click) string {
	return `{"envelope_id":"` + id + `","type":"interactive","accepts_response_payload":false,"payload":` + c.Payload() + `}`
}

// serveSocket plays Slack's side: hello, the envelopes, then it reports acks.
func serveSocket(conn *websocket.Conn, envelopes []string, acks chan<- string) {
	hello := `{"type":"hello","num_connections":1,"connection_info":{"app_id":"A0FOUREYES"},"debug_info":{"host":"test"}}`
	for _, m := range append([]string{hello}, envelopes...) {
		if conn.WriteMessage(websocket.TextMessage, []byte(m)) != nil {
			return
		}
	}
	for {
		var ack struct {
			EnvelopeID string `json:"envelope_id"`
		}
		if conn.ReadJSON(&ack) != nil {
			return
		}
		acks <- ack.EnvelopeID
	}
}

// A burst of clicks is acknowledged at once and decided at most
// slackDeciders at a time: the decisions wait, the acknowledgements do not.
func TestSlackBurstDecidesAFewAtATime(t *testing.T) {
	fake := &fakeClient{binding: signedBinding(), hold: make(chan struct{})}
	f := newSlackFixture(t, fake)
	f.gw.signer = testkeys.Signer(attest.RoleApproval)
	f.gw.limits = nil // one clicker, many clicks: the per-identity limit is not under test
	clicks := 3 * slackDeciders
	for i := range clicks {
		c := click(userBob, api.SlackActionApprove)
		c.ActionTS = fmt.Sprintf("1700000100.%06d", i)
		body := c.Body()
		status, _ := f.post(t, "", body, signedNow(body))
		require.Equal(t, http.StatusOK, status, "click %d acknowledged while decisions wait", i)
	}
	require.Eventually(t, func() bool {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		return fake.inFlight == slackDeciders
	}, 5*time.Second, 5*time.Millisecond, "decisions under way")
	time.Sleep(50 * time.Millisecond) // room for a ninth, were there no bound
	close(fake.hold)
	f.gw.WaitSlack()
	assert.Equal(t, slackDeciders, fake.maxInFlight, "decisions at once")
	assert.Equal(t, clicks, len(fake.updates), "every click decided")
}
