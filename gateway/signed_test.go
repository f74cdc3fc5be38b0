package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
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
	"github.com/foureyes/foureyes/internal/slackrec"
	"github.com/foureyes/foureyes/internal/testkeys"
	"github.com/foureyes/foureyes/policy"
)

var (
	testDigest     = tokenHash("the artifact")
	testPolicyHash = tokenHash("the pinned policy")
)

// signedBinding is what a release that takes signed decisions answers.
func signedBinding() api.Binding {
	return api.Binding{ReleaseID: releaseID, PolicyHash: testPolicyHash, ArtifactDigest: testDigest,
		OpenGate: "approval", Signed: true}
}

type signedFixture struct {
	fake  *fakeClient
	srv   *httptest.Server
	slogs *syncBuffer
}

// newSignedFixture serves a gateway holding the approval role's test key.
func newSignedFixture(t *testing.T, fake *fakeClient, mod func(*Options)) *signedFixture {
	if fake.outcomes == nil {
		fake.outcomes = []api.DecisionOutcome{outcome(api.OutcomeAccepted)}
	}
	logs := &syncBuffer{}
	o := Options{Client: fake, Policy: testPolicy(), Logger: slog.New(slog.NewTextHandler(logs, nil)),
		MaxBodyBytes: 1024, DecisionWait: 100 * time.Millisecond, Signer: testkeys.Signer(attest.RoleApproval)}
	if mod != nil {
		mod(&o)
	}
	srv := httptest.NewServer(New(o).Handler())
	t.Cleanup(srv.Close)
	return &signedFixture{fake: fake, srv: srv, slogs: logs}
}

// post sends body to path with a bearer token (none when token is "") and
// extra headers.
func (f *signedFixture) post(t *testing.T, path, token, body string, hdr ...string) (int, map[string]any, http.Header) {
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return f.send(t, req)
}

func (f *signedFixture) send(t *testing.T, req *http.Request) (int, map[string]any, http.Header) {
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(raw, &got), "body %q", raw)
	return resp.StatusCode, got, resp.Header
}

// envelopeOf is the envelope the i-th update carried.
func envelopeOf(t *testing.T, o client.UpdateWorkflowOptions) attest.Envelope {
	require.Len(t, o.Args, 1)
	sr, ok := o.Args[0].(api.SignedRequest)
	require.True(t, ok, "update argument is %T", o.Args[0])
	return sr.Envelope
}

// verifiedDecision checks that env is the approval role's decision about
// the queried artifact, and returns it.
func verifiedDecision(t *testing.T, env attest.Envelope) attest.Decision {
	fact, err := testkeys.Ring().Verify(env, attest.RoleApproval, attest.PredicateDecision)
	require.NoError(t, err)
	require.NoError(t, fact.CheckSubject(attest.ArtifactSubject(testDigest)))
	var d attest.Decision
	require.NoError(t, fact.Decode(&d))
	require.NoError(t, d.Binding.Check(attest.Binding{Release: releaseID, PolicySHA256: testPolicyHash}))
	return d
}

func TestSignedDecisionIsUpdate(t *testing.T) {
	for token, identity := range map[string]string{tokenAlice: "alice", tokenBot: "scan-bot"} {
		fake := &fakeClient{binding: signedBinding()}
		f := newSignedFixture(t, fake, nil)
		before := time.Now().UTC()
		status, got, _ := f.post(t, "/v1/decisions", token, goodBody)
		require.Equal(t, 200, status, "%v", got)
		assert.Equal(t, "accepted", got["outcome"])
		assert.Equal(t, identity, got["identity"])
		assert.Equal(t, "r-1", got["request_id"])
		assert.Empty(t, fake.signals, "a signed release gets no signal")
		require.Len(t, fake.updates, 1)
		o := fake.updates[0]
		assert.Equal(t, identity+"/r-1", o.UpdateID, "the update id is the scoped request id")
		assert.Equal(t, releaseID, o.WorkflowID)
		assert.Equal(t, api.UpdateDecide, o.UpdateName)
		assert.Equal(t, client.WorkflowUpdateStageCompleted, o.WaitForStage)
		d := verifiedDecision(t, envelopeOf(t, o))
		assert.Equal(t, identity, d.Identity, "the token's identity, not the body's")
		assert.Equal(t, identity+"/r-1", d.RequestID)
		assert.Equal(t, "approval", d.Gate)
		assert.Equal(t, "approve", d.Verdict)
		assert.Equal(t, api.ChannelAPI, d.Channel)
		assert.Equal(t, "lgtm", d.Comment)
		assert.Equal(t, attest.Evidence{Kind: "token", TokenFingerprint: tokenHash(token)[:16]}, d.Evidence)
		assert.False(t, d.At.Before(before.Add(-time.Second)), d.At)
		assert.Equal(t, time.UTC, d.At.Location())
		assert.NotContains(t, string(envelopeOf(t, o)), token, "the token never enters Temporal")
		assert.NotContains(t, f.slogs.String(), token)
	}
}

// Another role's key, or an outsider's, must not be what the gateway signs with.
func TestSignedDecisionIsTheApprovalRoles(t *testing.T) {
	fake := &fakeClient{binding: signedBinding()}
	f := newSignedFixture(t, fake, nil)
	status, _, _ := f.post(t, "/v1/decisions", tokenAlice, goodBody)
	require.Equal(t, 200, status)
	env := envelopeOf(t, fake.updates[0])
	_, err := testkeys.Ring().Verify(env, attest.RoleDeploy, attest.PredicateDecision)
	assert.Error(t, err)
	_, err = testkeys.Ring().Verify(env, attest.RoleApproval, attest.PredicateCancel)
	assert.Equal(t, attest.CodeWrongType, attest.CodeOf(err))

	fake = &fakeClient{binding: signedBinding()}
	f = newSignedFixture(t, fake, func(o *Options) { o.Signer = testkeys.Signer(testkeys.Outsider) })
	status, _, _ = f.post(t, "/v1/decisions", tokenAlice, goodBody)
	require.Equal(t, 200, status)
	_, err = testkeys.Ring().Verify(envelopeOf(t, fake.updates[0]), attest.RoleApproval, attest.PredicateDecision)
	assert.Equal(t, attest.CodeBadSignature, attest.CodeOf(err), "the test checks the key, so it can fail")
}

func TestSignedDecisionAnswers(t *testing.T) {
	app := temporal.NewApplicationError("decision refused: unsigned envelope", "Refused")
	tests := []struct {
		name     string
		fake     *fakeClient
		noSigner bool
		status   int
		outcome  string
		text     string // in the reason or the error
		updates  int
	}{
		{name: "refused by the handler", fake: &fakeClient{updateResult: outcome("refused")}, status: 403, outcome: "refused", text: "because refused", updates: 1},
		{name: "gate closed", fake: &fakeClient{updateResult: outcome("gate_closed")}, status: 409, outcome: "gate_closed", updates: 1},
		{name: "rejected by the validator", fake: &fakeClient{updateFailure: app}, status: 403, outcome: "refused", text: "unsigned envelope", updates: 1},
		{name: "unknown release", fake: &fakeClient{updateErr: notFound(), describeErr: notFound()}, status: 404, text: "unknown release", updates: 1},
		{name: "release ended", fake: &fakeClient{updateErr: serviceerror.NewNotFound("workflow execution already completed"), closed: true}, status: 409, outcome: "gate_closed", text: "release has ended", updates: 1},
		{name: "temporal unavailable", fake: &fakeClient{updateErr: serviceerror.NewUnavailable("down")}, status: 503, text: "temporal unavailable", updates: 1},
		{name: "update still running", fake: &fakeClient{updateErr: client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.DeadlineExceeded)}, status: 202, outcome: "pending", text: "same request_id", updates: 1},
		{name: "no signing key", fake: &fakeClient{}, noSigner: true, status: 503, text: "no approval signing key"},
		{name: "binding query unavailable", fake: &fakeClient{bindingErr: serviceerror.NewUnavailable("down")}, status: 503, text: "temporal unavailable"},
		{name: "binding of unknown release", fake: &fakeClient{bindingErr: notFound(), describeErr: notFound()}, status: 404, text: "unknown release"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fake.binding = signedBinding()
			f := newSignedFixture(t, tc.fake, func(o *Options) {
				if tc.noSigner {
					o.Signer = nil
				}
			})
			status, got, _ := f.post(t, "/v1/decisions", tokenAlice, goodBody)
			assert.Equal(t, tc.status, status, "%v", got)
			if tc.outcome != "" {
				assert.Equal(t, tc.outcome, got["outcome"])
			}
			assert.Contains(t, fmtAnswer(got), tc.text)
			assert.Len(t, tc.fake.updates, tc.updates)
			assert.Empty(t, tc.fake.signals)
		})
	}
}

func fmtAnswer(got map[string]any) string {
	s, _ := got["reason"].(string)
	e, _ := got["error"].(string)
	return s + " | " + e
}

// Before the build is attested there is no digest to bind to: no gate can
// be open, and nothing is signed.
func TestNoDigestNoSignature(t *testing.T) {
	bd := signedBinding()
	bd.ArtifactDigest, bd.OpenGate = "", ""
	fake := &fakeClient{binding: bd}
	f := newSignedFixture(t, fake, nil)
	for range 2 {
		status, got, _ := f.post(t, "/v1/decisions", tokenAlice, goodBody)
		assert.Equal(t, 409, status)
		assert.Equal(t, "gate_closed", got["outcome"])
	}
	assert.Empty(t, fake.updates)
	assert.Empty(t, fake.signals)
	assert.Equal(t, 2, fake.bindingCalls, "a binding without a digest is not cached")
}

// Once the digest is known the binding never changes: one query per release.
func TestBindingCached(t *testing.T) {
	fake := &fakeClient{binding: signedBinding()}
	f := newSignedFixture(t, fake, nil)
	for i := range 3 {
		body := strings.Replace(goodBody, "r-1", "r-"+string(rune('a'+i)), 1)
		status, _, _ := f.post(t, "/v1/decisions", tokenAlice, body)
		require.Equal(t, 200, status)
	}
	assert.Equal(t, 1, fake.bindingCalls)
	assert.Len(t, fake.updates, 3)

	var b Bindings
	for i := range maxBindings + 10 {
		bd := signedBinding()
		bd.ReleaseID = "release-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		b.put(bd)
	}
	assert.LessOrEqual(t, len(b.m), maxBindings)
}

// A binding learnt from the prompt spares the query: the gate's first
// decision is one Update, bound to the prompted artifact and policy.
func TestPromptedBindingNeedsNoQuery(t *testing.T) {
	fake := &fakeClient{binding: signedBinding()}
	bindings := &Bindings{}
	bindings.Prompted(api.Notification{ReleaseID: releaseID, PolicyHash: testPolicyHash, ArtifactDigest: testDigest})
	f := newSignedFixture(t, fake, func(o *Options) { o.Bindings = bindings })
	status, got, _ := f.post(t, "/v1/decisions", tokenAlice, goodBody)
	require.Equal(t, 200, status, "%v", got)
	assert.Zero(t, fake.bindingCalls)
	require.Len(t, fake.updates, 1)
	verifiedDecision(t, envelopeOf(t, fake.updates[0]))
	assert.False(t, bindings.confirmed(releaseID), "a successful Update confirms the binding")
}

// A prompt cannot replace a binding already learnt, and a prompt without
// digest or policy teaches nothing.
func TestPromptedBindingNeverOverrides(t *testing.T) {
	b := &Bindings{}
	b.Prompted(api.Notification{ReleaseID: releaseID, PolicyHash: testPolicyHash, ArtifactDigest: ""})
	b.Prompted(api.Notification{ReleaseID: releaseID, PolicyHash: "", ArtifactDigest: testDigest})
	_, ok := b.get(releaseID)
	assert.False(t, ok)
	b.put(signedBinding())
	b.Prompted(api.Notification{ReleaseID: releaseID, PolicyHash: "another-policy", ArtifactDigest: "another-digest"})
	got, _ := b.get(releaseID)
	assert.Equal(t, testDigest, got.ArtifactDigest)
}

// A release from before signed decisions has no decide Update: when the
// prompted binding's Update fails, the gateway asks the release and signals.
func TestPromptedBindingFallsBackToTheQuery(t *testing.T) {
	fake := &fakeClient{updateErr: serviceerror.NewInvalidArgument("unknown update name decide"),
		binding: api.Binding{ReleaseID: releaseID, PolicyHash: testPolicyHash, ArtifactDigest: testDigest}}
	bindings := &Bindings{}
	bindings.Prompted(api.Notification{ReleaseID: releaseID, PolicyHash: testPolicyHash, ArtifactDigest: testDigest})
	f := newSignedFixture(t, fake, func(o *Options) { o.Bindings = bindings })
	status, got, _ := f.post(t, "/v1/decisions", tokenAlice, goodBody)
	require.Equal(t, 200, status, "%v", got)
	assert.Equal(t, 1, fake.bindingCalls)
	assert.Len(t, fake.updates, 1, "the Update is not repeated for an unsigned release")
	assert.Len(t, fake.signals, 1)
}

// A release that predates signed decisions still gets the signal and the poll.
func TestUnsignedReleaseStillSignals(t *testing.T) {
	for name, fake := range map[string]*fakeClient{
		"signed false":     {binding: api.Binding{ReleaseID: releaseID, PolicyHash: testPolicyHash, ArtifactDigest: testDigest}},
		"no binding query": {bindingErr: serviceerror.NewQueryFailed("unknown queryType binding")},
	} {
		t.Run(name, func(t *testing.T) {
			f := newSignedFixture(t, fake, nil)
			status, got, _ := f.post(t, "/v1/decisions", tokenAlice, goodBody)
			require.Equal(t, 200, status, "%v", got)
			assert.Empty(t, fake.updates)
			require.Len(t, fake.signals, 1)
			assert.Equal(t, api.Decision{RequestID: "alice/r-1", Gate: "approval", Verdict: "approve",
				Identity: "alice", Channel: api.ChannelAPI, Comment: "lgtm"}, fake.signals[0])
			assert.Equal(t, []any{"alice/r-1"}, fake.queryArgs)
		})
	}
}

func TestRateLimitPerIdentity(t *testing.T) {
	fake := &fakeClient{binding: signedBinding()}
	f := newSignedFixture(t, fake, func(o *Options) { o.RateLimit = &RateLimit{PerSecond: 0.5, Burst: 2} })
	for range 2 {
		status, _, _ := f.post(t, "/v1/decisions", tokenAlice, goodBody)
		require.Equal(t, 200, status)
	}
	status, got, hdr := f.post(t, "/v1/decisions", tokenAlice, goodBody)
	assert.Equal(t, 429, status)
	assert.Equal(t, "2", hdr.Get("Retry-After"), "whole seconds until the next token")
	assert.Contains(t, got["error"], "alice may send 0.5 requests per second (bursts of 2)")
	status, _, _ = f.post(t, "/v1/cancels", tokenAlice, `{"release_id":"`+releaseID+`"}`)
	assert.Equal(t, 429, status, "cancels share the identity's bucket")
	assert.Len(t, fake.updates, 2, "nothing over the limit reaches the workflow")

	status, _, _ = f.post(t, "/v1/decisions", tokenBot, goodBody)
	assert.Equal(t, 200, status, "another identity has its own bucket")
	status, _, _ = f.post(t, "/v1/decisions", "nope", goodBody)
	assert.Equal(t, 401, status, "authentication comes first")
}

func TestRateLimitDefaultsAndOff(t *testing.T) {
	assert.Equal(t, RateLimit{PerSecond: 5, Burst: 20}, New(Options{}).limits.limit)
	assert.Nil(t, New(Options{RateLimit: &RateLimit{}}).limits)
	fake := &fakeClient{binding: signedBinding()}
	f := newSignedFixture(t, fake, func(o *Options) { o.RateLimit = &RateLimit{PerSecond: 0} })
	for range 30 {
		status, _, _ := f.post(t, "/v1/decisions", tokenAlice, goodBody)
		require.Equal(t, 200, status)
	}
	assert.Equal(t, "1", retryAfter(time.Millisecond))
	assert.Equal(t, "3", retryAfter(2100*time.Millisecond))
}

// The limiter map stays bounded: full buckets are forgotten, and identities
// beyond the bound share one bucket rather than each getting a fresh one.
func TestLimitersBounded(t *testing.T) {
	fast := newLimiters(&RateLimit{PerSecond: 1e9, Burst: 1})
	for i := range maxLimiters + 50 {
		assert.Zero(t, fast.wait(identityN(i)))
	}
	assert.LessOrEqual(t, len(fast.byID), maxLimiters)

	slow := newLimiters(&RateLimit{PerSecond: 0.001, Burst: 1})
	for i := range maxLimiters {
		require.Zero(t, slow.wait(identityN(i)))
	}
	assert.Zero(t, slow.wait("newcomer-1"), "the overflow bucket has a token")
	assert.Positive(t, slow.wait("newcomer-2"), "and newcomers share it")
	assert.Len(t, slow.byID, maxLimiters)
}

func identityN(i int) string {
	return "slack:U" + strings.Repeat("0", 8) + string(rune('A'+i%26)) + strings.Repeat("Z", i/26)
}

func TestCancelEndpoint(t *testing.T) {
	accepted := api.CancelOutcome{Outcome: api.OutcomeAccepted, Reason: "cancelled by alice"}
	fake := &fakeClient{binding: signedBinding(), updateResult: accepted}
	f := newSignedFixture(t, fake, nil)
	body := `{"release_id":"` + releaseID + `","reason":"wrong commit","request_id":"c-1"}`
	status, got, _ := f.post(t, "/v1/cancels", tokenAlice, body, "User-Agent", "foureyes-starter/dev")
	require.Equal(t, 200, status, "%v", got)
	assert.Equal(t, "accepted", got["outcome"])
	assert.Equal(t, "cancelled by alice", got["reason"])
	assert.Equal(t, "alice", got["identity"])
	assert.Equal(t, "c-1", got["request_id"])
	require.Len(t, fake.updates, 1)
	o := fake.updates[0]
	assert.Equal(t, "alice/c-1", o.UpdateID)
	assert.Equal(t, api.UpdateCancel, o.UpdateName)
	assert.Equal(t, releaseID, o.WorkflowID)
	assert.Equal(t, client.WorkflowUpdateStageCompleted, o.WaitForStage)
	fact, err := testkeys.Ring().Verify(envelopeOf(t, o), attest.RoleApproval, attest.PredicateCancel)
	require.NoError(t, err)
	require.NoError(t, fact.CheckSubject(attest.ReleaseSubject(releaseID)))
	var c attest.Cancel
	require.NoError(t, fact.Decode(&c))
	require.NoError(t, c.Binding.Check(attest.Binding{Release: releaseID, PolicySHA256: testPolicyHash}))
	assert.Equal(t, "alice", c.Identity)
	assert.Equal(t, "alice/c-1", c.RequestID)
	assert.Equal(t, api.ChannelCLI, c.Channel)
	assert.Equal(t, "wrong commit", c.Reason)
	assert.Equal(t, attest.Evidence{Kind: "token", TokenFingerprint: tokenHash(tokenAlice)[:16]}, c.Evidence)
	assert.Empty(t, fake.cancels)

	status, _, _ = f.post(t, "/v1/cancels", tokenBot, `{"release_id":"`+releaseID+`"}`, "User-Agent", "curl/8")
	require.Equal(t, 200, status)
	fact, err = testkeys.Ring().Verify(envelopeOf(t, fake.updates[1]), attest.RoleApproval, attest.PredicateCancel)
	require.NoError(t, err)
	require.NoError(t, fact.Decode(&c))
	assert.Equal(t, "scan-bot", c.Identity)
	assert.Equal(t, api.ChannelAPI, c.Channel)
	assert.True(t, strings.HasPrefix(fake.updates[1].UpdateID, "scan-bot/"), "a request id is made when absent")
}

func TestCancelAnswers(t *testing.T) {
	refused := api.CancelOutcome{Outcome: api.OutcomeRefused, Rule: api.RuleMayNotCancel, Reason: "alice may not cancel"}
	body := `{"release_id":"` + releaseID + `","reason":"r"}`
	tests := []struct {
		name, token, body string
		fake              *fakeClient
		status            int
		text              string
		updates           int
	}{
		{"refused", tokenAlice, body, &fakeClient{updateResult: refused}, 403, "alice may not cancel", 1},
		{"rejected by the validator", tokenAlice, body, &fakeClient{updateFailure: temporal.NewApplicationError("misbound", "Refused")}, 403, "misbound", 1},
		{"unauthenticated", "", body, &fakeClient{}, 401, "missing or malformed", 0},
		{"unknown token", "nope", body, &fakeClient{}, 401, "unknown token", 0},
		{"identity in body", tokenAlice, `{"release_id":"r","identity":"bob"}`, &fakeClient{}, 400, `unknown field "identity"`, 0},
		{"missing release", tokenAlice, `{"reason":"r"}`, &fakeClient{}, 400, "release_id is required", 0},
		{"too large", tokenAlice, `{"release_id":"r","reason":"` + strings.Repeat("x", 2000) + `"}`, &fakeClient{}, 413, "larger than 1024 bytes", 0},
		{"bad request id", tokenAlice, `{"release_id":"r","request_id":"a b"}`, &fakeClient{}, 400, "field request_id", 0},
		{"unknown release", tokenAlice, body, &fakeClient{updateErr: notFound(), describeErr: notFound()}, 404, "unknown release", 1},
		{"release ended", tokenAlice, body, &fakeClient{updateErr: notFound(), closed: true}, 409, "release has ended", 1},
		{"temporal unavailable", tokenAlice, body, &fakeClient{updateErr: serviceerror.NewUnavailable("down")}, 503, "temporal unavailable", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fake.binding = signedBinding()
			f := newSignedFixture(t, tc.fake, nil)
			status, got, hdr := f.post(t, "/v1/cancels", tc.token, tc.body)
			assert.Equal(t, tc.status, status, "%v", got)
			assert.Contains(t, fmtAnswer(got), tc.text)
			assert.Len(t, tc.fake.updates, tc.updates)
			if tc.name == "refused" {
				assert.Equal(t, "may_not_cancel", got["rule"], "a refused cancel names its rule too")
			}
			if status == 401 {
				assert.Contains(t, hdr.Get("WWW-Authenticate"), "Bearer")
			}
		})
	}
}

func TestCancelValidate(t *testing.T) {
	assert.Nil(t, validateCancel(api.CancelReleaseRequest{ReleaseID: "r", Reason: strings.Repeat("x", maxCommentLen)}))
	assert.Contains(t, validateCancel(api.CancelReleaseRequest{ReleaseID: "r", Reason: strings.Repeat("x", maxCommentLen+1)}).msg, "field reason: longer than")
	assert.Contains(t, validateCancel(api.CancelReleaseRequest{ReleaseID: "a b"}).msg, "field release_id")
}

func TestCancelUnsignedReleaseSignals(t *testing.T) {
	fake := &fakeClient{binding: api.Binding{ReleaseID: releaseID}}
	f := newSignedFixture(t, fake, nil)
	status, got, _ := f.post(t, "/v1/cancels", tokenAlice, `{"release_id":"`+releaseID+`","reason":"r","request_id":"c-2"}`,
		"User-Agent", api.StarterUserAgent+"/dev")
	assert.Equal(t, 202, status, "%v", got)
	assert.Equal(t, "pending", got["outcome"])
	assert.Empty(t, fake.updates)
	assert.Equal(t, []api.CancelRequest{{RequestID: "alice/c-2", Identity: "alice", Channel: api.ChannelCLI, Reason: "r"}}, fake.cancels)
}

func TestCancelMethod(t *testing.T) {
	f := newSignedFixture(t, &fakeClient{}, nil)
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+"/v1/cancels", nil)
	require.NoError(t, err)
	status, _, hdr := f.send(t, req)
	assert.Equal(t, 405, status)
	assert.Equal(t, "POST", hdr.Get("Allow"))
}

// A signed release's Slack rejection, its reason typed into the dialog the
// click opened, is signed with the click's evidence and the reason.
func TestSlackClickSigned(t *testing.T) {
	f := newSlackFixture(t, &fakeClient{binding: signedBinding()})
	f.gw.signer = testkeys.Signer(attest.RoleApproval)
	sub := f.rejectWithReason(t, userBob, "the migration drops a column prod still reads")
	status, _ := f.post(t, "", sub, signedNow(sub))
	require.Equal(t, http.StatusOK, status)
	f.gw.WaitSlack()
	assert.Empty(t, f.fake.signals)
	require.Len(t, f.fake.updates, 1)
	o := f.fake.updates[0]
	d := verifiedDecision(t, envelopeOf(t, o))
	assert.Equal(t, "bob", d.Identity)
	assert.Equal(t, api.ChannelSlack, d.Channel)
	assert.Equal(t, api.VerdictReject, d.Verdict)
	assert.Equal(t, "the migration drops a column prod still reads", d.Comment)
	assert.Equal(t, o.UpdateID, d.RequestID)
	assert.True(t, strings.HasPrefix(d.RequestID, "bob/slack-"), d.RequestID)
	assert.Equal(t, attest.Evidence{Kind: "slack", SlackTeam: slackTeam, SlackUser: userBob, ActionTS: "1700000100.123456"}, d.Evidence)
}

// Over the limit, a click is answered privately and reaches no workflow.
func TestSlackClickRateLimited(t *testing.T) {
	f := newSlackFixture(t, &fakeClient{binding: signedBinding()})
	f.gw.signer = testkeys.Signer(attest.RoleApproval)
	f.gw.limits = newLimiters(&RateLimit{PerSecond: 0.01, Burst: 1})
	for i, ts := range []string{"1700000100.000001", "1700000100.000002"} {
		c := click(userBob, api.SlackActionApprove)
		c.ActionTS = ts
		body := c.Body()
		status, _ := f.post(t, "", body, signedNow(body))
		require.Equal(t, http.StatusOK, status, "click %d", i)
		f.gw.WaitSlack()
	}
	assert.Len(t, f.fake.updates, 1)
	assert.Empty(t, f.fake.signals)
	eph := f.slackAPI.Calls(slackrec.PostEphemeral)
	require.Len(t, eph, 1)
	assert.Equal(t, userBob, eph[0].User())
	assert.Contains(t, eph[0].Text(), "was not recorded: too many decisions: bob may send")
}

// A refusal's body names its rule by code beside the message: programs
// read the code, people the reason.
func TestRefusalNamesItsRule(t *testing.T) {
	author := api.DecisionOutcome{Outcome: api.OutcomeRefused, Rule: policy.RuleAuthor, Reason: "you authored this change"}
	capped := temporal.NewApplicationError("refused and not recorded: alice already has 20 refused requests", api.ErrTypeRefusalsCapped)
	tests := []struct {
		name   string
		fake   *fakeClient
		status int
		rule   string
		reason string
	}{
		{"refused by a policy rule", &fakeClient{updateResult: author}, 403, "author", "you authored this change"},
		{"refusals capped by the validator", &fakeClient{updateFailure: capped}, 403, "refusals_capped", "already has 20"},
		{"release ended", &fakeClient{updateErr: serviceerror.NewNotFound("workflow execution already completed"), closed: true}, 409, "gate_closed", "release has ended"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fake.binding = signedBinding()
			f := newSignedFixture(t, tc.fake, nil)
			status, got, _ := f.post(t, "/v1/decisions", tokenAlice, goodBody)
			assert.Equal(t, tc.status, status, "%v", got)
			assert.Equal(t, tc.rule, got["rule"])
			assert.Contains(t, got["reason"], tc.reason)
		})
	}
}
