package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/testkeys"
)

const cancelRelease = "release-api-prod-1"

// signedTemporal is a release that takes signed requests: it answers
// QueryBinding as signed, records Updates and answers them with result.
type signedTemporal struct {
	*fakeTemporal
	mu        sync.Mutex
	binding   api.Binding
	result    any
	updateErr error
	updates   []client.UpdateWorkflowOptions
}

func newSignedTemporal(result any) *signedTemporal {
	return &signedTemporal{fakeTemporal: &fakeTemporal{}, result: result,
		binding: api.Binding{ReleaseID: cancelRelease, PolicyHash: "policy-hash", ArtifactDigest: strings.Repeat("ab", 32), Signed: true}}
}

func (s *signedTemporal) QueryWorkflow(ctx context.Context, id, run, name string, args ...any) (converter.EncodedValue, error) {
	if name == api.QueryBinding {
		return jsonValue{s.binding}, nil
	}
	return s.fakeTemporal.QueryWorkflow(ctx, id, run, name, args...)
}

func (s *signedTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates = append(s.updates, o)
	if s.updateErr != nil {
		return nil, s.updateErr
	}
	return doneUpdate{value: s.result}, nil
}

// doneUpdate is a completed Update holding its result.
type doneUpdate struct {
	client.WorkflowUpdateHandle
	value any
}

func (d doneUpdate) Get(_ context.Context, ptr any) error { return jsonValue{d.value}.Get(ptr) }

// signedCancel checks the i-th update is the approval role's cancel of the
// release and returns it.
func signedCancel(t *testing.T, s *signedTemporal, i int) attest.Cancel {
	require.Greater(t, len(s.updates), i)
	o := s.updates[i]
	assert.Equal(t, api.UpdateCancel, o.UpdateName)
	assert.Equal(t, cancelRelease, o.WorkflowID)
	env := o.Args[0].(api.SignedRequest).Envelope
	fact, err := testkeys.Ring().Verify(env, attest.RoleApproval, attest.PredicateCancel)
	require.NoError(t, err)
	require.NoError(t, fact.CheckSubject(attest.ReleaseSubject(cancelRelease)))
	var c attest.Cancel
	require.NoError(t, fact.Decode(&c))
	assert.Equal(t, o.UpdateID, c.RequestID, "the update id is the scoped request id")
	return c
}

func TestCancel(t *testing.T) {
	rita := demoToken(t, "rita")
	fake := newSignedTemporal(api.CancelOutcome{Outcome: "accepted", Reason: "cancelled by rita"})
	gatewayFor(t, fake)
	t.Setenv("FOUREYES_TOKEN", rita)
	t.Setenv("FOUREYES_IDENTITY", "bob")
	code, out, errs := cli(t, nil, "cancel", cancelRelease, "--reason", "wrong commit", "--request-id", "c-1")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "accepted: cancelled by rita")
	assert.Contains(t, out, "cancel of release "+cancelRelease+", as rita, request id c-1")
	assert.NotContains(t, out+errs, rita, "the token is never printed")
	c := signedCancel(t, fake, 0)
	assert.Equal(t, "rita", c.Identity, "the token's identity, not $FOUREYES_IDENTITY")
	assert.Equal(t, api.ScopedRequestID("rita", "c-1"), c.RequestID)
	assert.Equal(t, api.ChannelCLI, c.Channel)
	assert.Equal(t, "wrong commit", c.Reason)
	assert.Equal(t, attest.Binding{Release: cancelRelease, PolicySHA256: "policy-hash"}, c.Binding)
	assert.Equal(t, "token", c.Evidence.Kind)
	assert.Empty(t, fake.signals, "no unsigned signal for a signed release")

	code, out, errs = cli(t, nil, "cancel", cancelRelease, "--json")
	require.Equal(t, 0, code, errs)
	var ans api.Answer
	require.NoError(t, json.Unmarshal([]byte(out), &ans))
	assert.Equal(t, "accepted", ans.Outcome)
	assert.NotEmpty(t, ans.RequestID, "a request id is made by the CLI")
	assert.Equal(t, api.ScopedRequestID("rita", ans.RequestID), signedCancel(t, fake, 1).RequestID)
}

func TestCancelExitCodes(t *testing.T) {
	bob := demoToken(t, "bob")
	refused := newSignedTemporal(api.CancelOutcome{Outcome: "refused", Reason: "bob may not cancel this release"})
	unknown := newSignedTemporal(nil)
	unknown.updateErr = serviceerror.NewNotFound("no")
	ended := newSignedTemporal(nil)
	ended.updateErr = serviceerror.NewNotFound("workflow execution already completed")
	ended.describe = enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
	down := newSignedTemporal(nil)
	down.updateErr = serviceerror.NewUnavailable("down")
	tests := []struct {
		name     string
		fake     client.Client
		token    string
		args     []string
		code     int
		out, err string
	}{
		{"refused", refused, bob, nil, 3, "refused: bob may not cancel this release", "starter: cancel: refused: bob may not cancel"},
		{"unknown release", unknown, bob, nil, 4, "", "starter: cancel: unknown release"},
		{"release ended", ended, bob, nil, 3, "release has ended", "release has ended"},
		{"temporal down", down, bob, nil, 1, "", "gateway answered 503: temporal unavailable"},
		{"unknown token", refused, "fe_demo_nobody", nil, 2, "", "starter: cancel: unknown token"},
		{"no token", refused, "", nil, 2, "", "no API token"},
		{"self-declared identity", refused, bob, []string{"--as", "carol"}, 2, "", "--as: cancels are authenticated by your API token now"},
		{"gateway down", nil, bob, []string{"--gateway", "http://127.0.0.1:1"}, 1, "", "starter: cancel: gateway http://127.0.0.1:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fake != nil {
				gatewayFor(t, tc.fake)
			}
			t.Setenv("FOUREYES_TOKEN", tc.token)
			code, out, errs := cli(t, nil, append([]string{"cancel", cancelRelease, "--reason", "r"}, tc.args...)...)
			assert.Equal(t, tc.code, code, errs)
			assert.Contains(t, out, tc.out)
			assert.Contains(t, errs, tc.err)
			assert.NotContains(t, out+errs, bob)
		})
	}
	assert.Empty(t, refused.updates[1:], "the refused release saw one cancel: the others failed before the gateway")
}

// A release that predates signed cancels gets the unsigned signal, as the
// token's identity; whether it was taken is not known at once.
func TestCancelUnsignedRelease(t *testing.T) {
	fake := &fakeTemporal{queries: map[string]any{api.QueryBinding: api.Binding{ReleaseID: cancelRelease}}}
	gatewayFor(t, fake)
	t.Setenv("FOUREYES_TOKEN", demoToken(t, "rita"))
	code, out, errs := cli(t, nil, "cancel", cancelRelease, "--reason", "wrong commit", "--request-id", "c-9")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "pending: cancel sent to a release that predates signed cancels")
	assert.Contains(t, errs, "not known yet: run again with --request-id c-9, or see starter status "+cancelRelease)
	assert.Equal(t, []string{api.SignalCancel}, fake.signalNames)
	assert.Equal(t, api.CancelRequest{RequestID: "rita/c-9", Identity: "rita", Channel: api.ChannelCLI,
		Reason: "wrong commit"}, fake.signals[0])
}

// A signed release's decision from the CLI is an Update carrying the
// approval role's signature over the token identity's decision.
func TestDecideSignedRelease(t *testing.T) {
	fake := newSignedTemporal(api.DecisionOutcome{Outcome: "accepted", Reason: "counted", GateState: "open"})
	gatewayFor(t, fake)
	t.Setenv("FOUREYES_TOKEN", demoToken(t, "carol"))
	code, out, errs := cli(t, nil, "decide", cancelRelease, "--gate", "approval", "--approve", "--request-id", "d-1")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "accepted: counted")
	require.Len(t, fake.updates, 1)
	o := fake.updates[0]
	assert.Equal(t, api.UpdateDecide, o.UpdateName)
	assert.Equal(t, "carol/d-1", o.UpdateID)
	fact, err := testkeys.Ring().Verify(o.Args[0].(api.SignedRequest).Envelope, attest.RoleApproval, attest.PredicateDecision)
	require.NoError(t, err)
	var d attest.Decision
	require.NoError(t, fact.Decode(&d))
	assert.Equal(t, "carol", d.Identity)
	assert.Equal(t, "approve", d.Verdict)
	assert.Empty(t, fake.signals)
}
