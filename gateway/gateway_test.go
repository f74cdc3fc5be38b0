package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/demotokens"
	"github.com/foureyes/foureyes/policy"
)

// fakeClient stands in for Temporal: it records signals and updates, answers
// QueryBinding with binding (zero: a release that predates signed decisions)
// and other queries from a script of outcomes (the last one repeats).
type fakeClient struct {
	client.Client
	mu            sync.Mutex
	signalErr     error
	describeErr   error
	closed        bool
	outcomes      []api.DecisionOutcome
	queryErr      error
	signals       []api.Decision
	cancels       []api.CancelRequest
	queryArgs     []any
	binding       api.Binding
	bindingErr    error // overrides queryErr for QueryBinding
	bindingCalls  int
	updates       []client.UpdateWorkflowOptions
	updateErr     error // from UpdateWorkflow
	updateFailure error // from the handle's Get (the workflow's rejection)
	updateResult  any   // the handler's result; default: the next scripted outcome
	// per release (workflow id), when set: its binding and its handler's result
	bindingOf map[string]api.Binding
	resultOf  map[string]api.DecisionOutcome
	// hold, when set, keeps every UpdateWorkflow call waiting until it is
	// closed; inFlight and maxInFlight count the calls waiting
	hold                  chan struct{}
	inFlight, maxInFlight int
	// memo is what Describe answers as the release's memo; signalTraces
	// the trace id each signal's context held.
	memo         map[string]*commonpb.Payload
	signalTraces []string
}

func (f *fakeClient) SignalWorkflow(ctx context.Context, id, _, name string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signalTraces = append(f.signalTraces, trace.SpanContextFromContext(ctx).TraceID().String())
	switch name {
	case api.SignalDecision:
		f.signals = append(f.signals, arg.(api.Decision))
	case api.SignalCancel:
		f.cancels = append(f.cancels, arg.(api.CancelRequest))
	default:
		return serviceerror.NewInvalidArgument("unexpected signal " + name)
	}
	return f.signalErr
}

func (f *fakeClient) QueryWorkflow(_ context.Context, id, _, name string, args ...any) (converter.EncodedValue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if bd, ok := f.bindingOf[id]; ok && name == api.QueryBinding {
		return jsonValue{bd}, nil
	}
	if name == api.QueryBinding {
		return f.queryBinding()
	}
	f.queryArgs = append(f.queryArgs, args...)
	if f.queryErr != nil {
		return nil, f.queryErr
	}
	return jsonValue{f.nextOutcome()}, nil
}

func (f *fakeClient) queryBinding() (converter.EncodedValue, error) {
	f.bindingCalls++
	switch {
	case f.bindingErr != nil:
		return nil, f.bindingErr
	case f.queryErr != nil:
		return nil, f.queryErr
	}
	return jsonValue{f.binding}, nil
}

func (f *fakeClient) nextOutcome() api.DecisionOutcome {
	out := f.outcomes[0]
	if len(f.outcomes) > 1 {
		f.outcomes = f.outcomes[1:]
	}
	return out
}

// UpdateWorkflow records the update and answers as the workflow's handler
// would, at once (WaitForStage Completed).
func (f *fakeClient) UpdateWorkflow(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.waitHeld(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, o)
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	var result any = f.updateResult
	if out, ok := f.resultOf[o.WorkflowID]; ok {
		result = out
	}
	if result == nil {
		result = f.nextOutcome()
	}
	return &fakeUpdate{id: o.UpdateID, workflow: o.WorkflowID, value: result, err: f.updateFailure}, nil
}

// waitHeld waits, while hold is set, until it is closed, counting the
// calls waiting at once.
func (f *fakeClient) waitHeld(ctx context.Context) {
	f.mu.Lock()
	hold := f.hold
	if hold == nil {
		f.mu.Unlock()
		return
	}
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	select {
	case <-hold:
	case <-ctx.Done():
	}
	f.mu.Lock()
	f.inFlight--
	f.mu.Unlock()
}

// fakeUpdate is a completed update.
type fakeUpdate struct {
	id, workflow string
	value        any
	err          error
}

func (u *fakeUpdate) WorkflowID() string { return u.workflow }
func (u *fakeUpdate) RunID() string      { return "run-1" }
func (u *fakeUpdate) UpdateID() string   { return u.id }
func (u *fakeUpdate) Get(_ context.Context, ptr any) error {
	if u.err != nil {
		return u.err
	}
	return jsonValue{u.value}.Get(ptr)
}

func (f *fakeClient) DescribeWorkflowExecution(_ context.Context, id, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	if f.describeErr != nil {
		return nil, f.describeErr
	}
	st := enums.WORKFLOW_EXECUTION_STATUS_RUNNING
	if f.closed {
		st = enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{
		WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Status: st, Memo: &commonpb.Memo{Fields: f.memo}}}, nil
}

// jsonValue is a converter.EncodedValue holding a Go value.
type jsonValue struct{ v any }

func (j jsonValue) HasValue() bool { return j.v != nil }
func (j jsonValue) Get(ptr any) error {
	b, err := json.Marshal(j.v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, ptr)
}

const (
	tokenAlice = "tok-alice-0123456789"
	tokenBot   = "tok-bot-9876543210"
)

func tokenHash(t string) string {
	s := sha256.Sum256([]byte(t))
	return hex.EncodeToString(s[:])
}

func testPolicy() *policy.Policy {
	return &policy.Policy{
		Version: 1,
		Humans: []policy.Human{
			{ID: "bob", Email: "bob@example.com"},
			{ID: "alice", Email: "alice@example.com", TokenSHA256: tokenHash(tokenAlice)},
		},
		Bots: []policy.Bot{{ID: "scan-bot", TokenSHA256: tokenHash(tokenBot), Gates: []string{policy.GateReview}}},
	}
}

func outcome(o string) api.DecisionOutcome {
	return api.DecisionOutcome{Outcome: o, Reason: "because " + o, GateState: "open"}
}

type fixture struct {
	fake *fakeClient
	srv  *httptest.Server
	logs *bytes.Buffer
}

func newFixture(t *testing.T, fake *fakeClient) *fixture {
	if fake.outcomes == nil {
		fake.outcomes = []api.DecisionOutcome{outcome(api.OutcomeAccepted)}
	}
	logs := &bytes.Buffer{}
	s := New(Options{Client: fake, Policy: testPolicy(), Logger: slog.New(slog.NewTextHandler(logs, nil)),
		MaxBodyBytes: 1024, DecisionWait: 100 * time.Millisecond})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &fixture{fake: fake, srv: srv, logs: logs}
}

func (f *fixture) do(t *testing.T, method, auth, body string) (int, map[string]any, http.Header) {
	req, err := http.NewRequest(method, f.srv.URL+"/v1/decisions", strings.NewReader(body))
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(raw, &got), "body %q", raw)
	return resp.StatusCode, got, resp.Header
}

const goodBody = `{"release_id":"release-api-prod-1","gate":"approval","verdict":"approve","comment":"lgtm","request_id":"r-1"}`

func TestDecisionStatusCodes(t *testing.T) {
	bearer := "Bearer " + tokenAlice
	tests := []struct {
		name    string
		fake    *fakeClient
		method  string
		auth    string
		body    string
		status  int
		outcome string
		errText string
	}{
		{name: "accepted", status: 200, outcome: "accepted"},
		{name: "refused", fake: &fakeClient{outcomes: []api.DecisionOutcome{outcome("refused")}}, status: 403, outcome: "refused"},
		{name: "gate closed by workflow", fake: &fakeClient{outcomes: []api.DecisionOutcome{outcome("gate_closed")}}, status: 409, outcome: "gate_closed"},
		{name: "pending until wait passes", fake: &fakeClient{outcomes: []api.DecisionOutcome{outcome("pending")}}, status: 202, outcome: "pending"},
		{name: "query failing stays pending", fake: &fakeClient{queryErr: serviceerror.NewQueryFailed("no worker")}, status: 202, outcome: "pending"},
		{name: "unknown release", fake: &fakeClient{signalErr: serviceerror.NewNotFound("no"), describeErr: serviceerror.NewNotFound("no")}, status: 404, errText: "unknown release"},
		{name: "release ended", fake: &fakeClient{signalErr: serviceerror.NewNotFound("workflow execution already completed"), closed: true}, status: 409, outcome: "gate_closed"},
		{name: "temporal unreachable", fake: &fakeClient{signalErr: serviceerror.NewUnavailable("connection refused")}, status: 503, errText: "temporal unavailable"},
		{name: "temporal timeout", fake: &fakeClient{signalErr: context.DeadlineExceeded}, status: 503, errText: "temporal unavailable"},
		{name: "describe unreachable", fake: &fakeClient{signalErr: serviceerror.NewNotFound("no"), describeErr: serviceerror.NewUnavailable("down")}, status: 503},
		{name: "wrong method", method: http.MethodGet, status: 405},
		{name: "missing authorization", auth: "-", status: 401},
		{name: "malformed authorization", auth: "Basic " + tokenAlice, status: 401},
		{name: "empty bearer", auth: "Bearer ", status: 401},
		{name: "unknown token", auth: "Bearer nope", status: 401, errText: "unknown token"},
		{name: "malformed json", body: `{"release_id": `, status: 400, errText: "malformed JSON"},
		{name: "syntax error", body: `{"release_id" "x"}`, status: 400, errText: "malformed JSON at byte"},
		{name: "empty body", body: " ", status: 400, errText: "empty body"},
		{name: "not an object", body: `["x"]`, status: 400, errText: "must be a JSON object"},
		{name: "two objects", body: goodBody + goodBody, status: 400, errText: "single JSON object"},
		{name: "unknown field", body: `{"release_id":"r","gate":"review","verdict":"approve","foo":1}`, status: 400, errText: `unknown field "foo"`},
		{name: "identity in body", body: `{"release_id":"r","gate":"review","verdict":"approve","identity":"bob"}`, status: 400, errText: `unknown field "identity"`},
		{name: "wrong type", body: `{"release_id":7,"gate":"review","verdict":"approve"}`, status: 400, errText: "field release_id: must be a string"},
		{name: "missing release", body: `{"gate":"review","verdict":"approve"}`, status: 400, errText: "release_id is required"},
		{name: "bad gate", body: `{"release_id":"r","gate":"deploy","verdict":"approve"}`, status: 400, errText: "field gate: must be review, approval or follow_up"},
		{name: "reject without comment", body: `{"release_id":"r","gate":"review","verdict":"reject","comment":"  "}`, status: 400, errText: "field comment: a rejection needs a comment: say why"},
		{name: "bad verdict", body: `{"release_id":"r","gate":"review","verdict":"yes"}`, status: 400, errText: "field verdict: must be approve or reject"},
		{name: "bad request id", body: `{"release_id":"r","gate":"review","verdict":"approve","request_id":"a b"}`, status: 400, errText: "field request_id"},
		{name: "too large", body: `{"release_id":"r","gate":"review","verdict":"approve","comment":"` + strings.Repeat("x", 2000) + `"}`, status: 413, errText: "larger than 1024 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fake == nil {
				tc.fake = &fakeClient{}
			}
			f := newFixture(t, tc.fake)
			method, auth, body := tc.method, tc.auth, tc.body
			if method == "" {
				method = http.MethodPost
			}
			switch auth {
			case "":
				auth = bearer
			case "-":
				auth = ""
			}
			if body == "" {
				body = goodBody
			}
			status, got, hdr := f.do(t, method, auth, body)
			assert.Equal(t, tc.status, status, "body %v", got)
			if tc.outcome != "" {
				assert.Equal(t, tc.outcome, got["outcome"])
				assert.Equal(t, "alice", got["identity"])
				assert.Equal(t, "release-api-prod-1", got["release_id"])
				assert.Equal(t, "r-1", got["request_id"])
				assert.Equal(t, "approval", got["gate"])
				assert.Contains(t, got, "gate_state")
				assert.NotEmpty(t, got["reason"])
			}
			if tc.errText != "" {
				assert.Contains(t, got["error"], tc.errText)
			}
			if status == 401 {
				assert.Contains(t, hdr.Get("WWW-Authenticate"), "Bearer")
			}
			if status == 405 {
				assert.Equal(t, "POST", hdr.Get("Allow"))
			}
			if status == 400 || status == 401 || status == 405 || status == 413 {
				assert.Empty(t, tc.fake.signals, "no signal for a bad request")
			}
			assert.NotContains(t, f.logs.String(), tokenAlice, "token must never be logged")
		})
	}
}

func TestTokenPicksIdentity(t *testing.T) {
	for token, want := range map[string]string{tokenAlice: "alice", tokenBot: "scan-bot"} {
		f := newFixture(t, &fakeClient{})
		status, got, _ := f.do(t, http.MethodPost, "bearer "+token, goodBody)
		require.Equal(t, 200, status)
		assert.Equal(t, want, got["identity"])
		require.Len(t, f.fake.signals, 1)
		// The workflow sees the request id under the caller's identity.
		assert.Equal(t, api.Decision{RequestID: want + "/r-1", Gate: "approval", Verdict: "approve",
			Identity: want, Channel: api.ChannelAPI, Comment: "lgtm"}, f.fake.signals[0])
		assert.Equal(t, []any{want + "/r-1"}, f.fake.queryArgs)
		assert.Equal(t, "r-1", got["request_id"])
		assert.NotContains(t, f.logs.String(), token)
		assert.Contains(t, f.logs.String(), "identity="+want)
	}
}

func TestPollsUntilOutcome(t *testing.T) {
	pending := outcome(api.OutcomePending)
	fake := &fakeClient{outcomes: []api.DecisionOutcome{pending, pending, pending, outcome("accepted")}}
	f := newFixture(t, fake)
	body := `{"release_id":"release-api-prod-1","gate":"review","verdict":"reject","comment":"breaks the ledger"}`
	status, got, _ := f.do(t, http.MethodPost, "Bearer "+tokenBot, body)
	require.Equal(t, 200, status)
	assert.Equal(t, "accepted", got["outcome"])
	assert.Len(t, fake.queryArgs, 4)
	// A request id is made when absent, and the query asks about that id.
	scoped := fake.signals[0].RequestID
	id, ok := strings.CutPrefix(scoped, "scan-bot/")
	require.True(t, ok, scoped)
	_, err := uuid.Parse(id)
	assert.NoError(t, err)
	assert.Equal(t, id, got["request_id"])
	assert.Equal(t, scoped, fake.queryArgs[0])
	assert.Equal(t, "reject", fake.signals[0].Verdict)
}

func TestHealthz(t *testing.T) {
	f := newFixture(t, &fakeClient{})
	resp, err := http.Get(f.srv.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	resp, err = http.Post(f.srv.URL+"/healthz", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 405, resp.StatusCode)
}

func TestDefaults(t *testing.T) {
	s := New(Options{})
	assert.Equal(t, int64(DefaultMaxBodyBytes), s.maxBody)
	assert.Equal(t, DefaultDecisionWait, s.decisionWait)
	assert.NotNil(t, s.log)
}

// Every demo token maps to its own identity through the real policy.
func TestDemoPolicyTokens(t *testing.T) {
	p, _, err := policy.Load("../deployments/policy.yaml")
	require.NoError(t, err)
	tokens, err := demotokens.Read("..")
	require.NoError(t, err)
	n := 0
	for want, token := range tokens {
		fake := &fakeClient{outcomes: []api.DecisionOutcome{outcome("accepted")}}
		srv := httptest.NewServer(New(Options{Client: fake, Policy: p, Logger: slog.New(slog.DiscardHandler)}).Handler())
		f := &fixture{fake: fake, srv: srv}
		status, got, _ := f.do(t, http.MethodPost, "Bearer "+token, goodBody)
		srv.Close()
		assert.Equal(t, 200, status)
		assert.Equal(t, want, got["identity"])
		assert.Equal(t, want, fake.signals[0].Identity)
		n++
	}
	assert.GreaterOrEqual(t, n, 2)
}
