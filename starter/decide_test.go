package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/gateway"
	"github.com/foureyes/foureyes/internal/demotokens"
	"github.com/foureyes/foureyes/internal/testkeys"
	"github.com/foureyes/foureyes/policy"
)

// demoToken reads a demo identity's token (bob, ci-bot) from deployments/demo-tokens.env.
func demoToken(t *testing.T, identity string) string {
	tokens, err := demotokens.Read("..")
	require.NoError(t, err)
	tok, err := demotokens.Get(tokens, identity)
	require.NoError(t, err)
	return tok
}

// gatewayFor serves a real gateway, holding the approval role's test key,
// backed by fake Temporal and the demo policy.
func gatewayFor(t *testing.T, fake client.Client) string {
	p, _, err := policy.Load(filepath.Join("..", "deployments", "policy.yaml"))
	require.NoError(t, err)
	s := gateway.New(gateway.Options{Client: fake, Policy: p, DecisionWait: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Signer: testkeys.Signer(attest.RoleApproval)})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	t.Setenv("FOUREYES_GATEWAY_URL", srv.URL)
	return srv.URL
}

// outcomeFake is a release that predates signed decisions (its binding is
// unsigned): the gateway signals it and polls QueryDecision.
func outcomeFake(outcome string) *fakeTemporal {
	return &fakeTemporal{queries: map[string]any{api.QueryDecision: api.DecisionOutcome{
		Outcome: outcome, Reason: "reason for " + outcome, Gate: "approval", GateState: "open"},
		api.QueryBinding: api.Binding{ReleaseID: "release-api-prod-1"}}}
}

func TestDecide(t *testing.T) {
	bob := demoToken(t, "bob")
	ended := &fakeTemporal{signalErr: serviceerror.NewNotFound("workflow execution already completed"),
		describe: enums.WORKFLOW_EXECUTION_STATUS_COMPLETED}
	tests := []struct {
		name  string
		fake  *fakeTemporal
		token string
		args  []string
		code  int
		out   string
		errs  string
	}{
		{"accepted", outcomeFake("accepted"), bob, nil, 0, "accepted: reason for accepted", ""},
		{"refused", outcomeFake("refused"), bob, nil, 3, "refused: reason for refused", "starter: decide: refused: reason for refused"},
		{"gate closed", outcomeFake("gate_closed"), bob, nil, 3, "gate_closed", "gate_closed"},
		{"release ended", ended, bob, nil, 3, "gate_closed: release has ended", "release has ended"},
		{"unknown release", &fakeTemporal{signalErr: serviceerror.NewNotFound("no")}, bob, nil, 4, "", "starter: decide: unknown release"},
		{"pending", outcomeFake("pending"), bob, nil, 1, "pending", "run again with --request-id req-7"},
		{"unknown token", outcomeFake("accepted"), "fe_demo_nobody", nil, 2, "", "starter: decide: unknown token"},
		{"no token", outcomeFake("accepted"), "", nil, 2, "", "no API token: set FOUREYES_TOKEN or use --token-file"},
		{"both verdicts", nil, bob, []string{"--reject"}, 2, "", "use exactly one of --approve or --reject"},
		{"bad gate", nil, bob, []string{"--gate", "deploy"}, 2, "", "--gate: must be review, approval or follow_up"},
		{"gateway down", nil, bob, []string{"--gateway", "http://127.0.0.1:1"}, 1, "", "starter: decide: gateway http://127.0.0.1:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fake != nil {
				gatewayFor(t, tc.fake)
			}
			t.Setenv("FOUREYES_TOKEN", tc.token)
			args := append([]string{"decide", "release-api-prod-1", "--gate", "approval", "--approve",
				"--comment", "ship it", "--request-id", "req-7"}, tc.args...)
			code, out, errs := cli(t, nil, args...)
			assert.Equal(t, tc.code, code, errs)
			assert.Contains(t, out, tc.out)
			assert.Contains(t, errs, tc.errs)
			assert.NotContains(t, out+errs, bob, "the token is never printed")
		})
	}
}

func TestDecideSignalsTokenIdentity(t *testing.T) {
	fake := outcomeFake("accepted")
	gatewayFor(t, fake)
	t.Setenv("FOUREYES_TOKEN", "")
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(demoToken(t, "ci-bot")+"\n"), 0o600))
	code, out, errs := cli(t, nil, "decide", "release-api-prod-1", "--json", "--gate", "review", "--reject", "--comment", "breaks refunds", "--token-file", tokenFile)
	require.Equal(t, 0, code, errs)
	var ans api.Answer
	require.NoError(t, json.Unmarshal([]byte(out), &ans))
	assert.Equal(t, "accepted", ans.Outcome)
	assert.Equal(t, "ci-bot", ans.Identity)
	require.Len(t, fake.signals, 1)
	d := fake.signals[0].(api.Decision)
	assert.Equal(t, "ci-bot", d.Identity)
	assert.Equal(t, api.ChannelAPI, d.Channel)
	assert.Equal(t, "reject", d.Verdict)
	assert.Equal(t, "review", d.Gate)
	assert.Equal(t, api.ScopedRequestID("ci-bot", ans.RequestID), d.RequestID, "a request id is made by the CLI")
	assert.NotEmpty(t, d.RequestID)

	code, _, errs = cli(t, nil, "decide", "r1", "--gate", "review", "--approve", "--token-file", filepath.Join(t.TempDir(), "none"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "starter: decide: --token-file:")
}
