// Package integration runs foureyes as users run it: the real Temporal dev
// server and each role as its own OS process, driven over real HTTP.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/devstack"
	"github.com/foureyes/foureyes/gateway"
	"github.com/foureyes/foureyes/policy"
	"github.com/foureyes/foureyes/workflows"
)

// stackT is one running local stack for a test.
type stackT struct {
	t      *testing.T
	local  *devstack.Local
	client client.Client
	tokens map[string]string // identity -> demo token
	cli    string            // the Temporal CLI
	ring   attest.KeyRing    // the public keys of the stack's data/policy.yaml
	git    commits           // the commits the tests release
}

// startStack builds the binaries and starts foureyes' Temporal server and the five
// roles on free ports in a temporary data folder, whose demo repositories
// get the tests' commits (git). extra adds role settings; it may name them.
func startStack(t *testing.T, extra func(commits) map[string][]string) *stackT {
	return startStackWith(t, extra, false)
}

// startStackWith is startStack; promotionRules keeps the sample policy's
// promotion and emergency sections (the other tests' prod releases go
// straight to prod).
func startStackWith(t *testing.T, extra func(commits) map[string][]string, promotionRules bool) *stackT {
	if testing.Short() {
		t.Skip("integration test skipped in -short mode")
	}
	root, err := devstack.RepoRoot()
	require.NoError(t, err)
	server, err := devstack.EnsureTemporalServer(root, io.Discard)
	require.NoError(t, err, "foureyes' Temporal server: go run ./stack test builds it")
	cli, err := devstack.EnsureTemporalCLI(root, io.Discard)
	require.NoError(t, err, "the Temporal CLI (operators' client) is needed: go run ./stack test installs it")
	bin := t.TempDir()
	require.NoError(t, devstack.BuildBinaries(root, bin, io.Discard))
	base := filepath.Join(root, "deploy", "policy.yaml")
	if !promotionRules {
		base, err = devstack.WritePolicyWithoutPromotion(root, t.TempDir())
		require.NoError(t, err)
	}
	local := &devstack.Local{Root: root, DataDir: t.TempDir(), BinDir: bin, GatewayPort: freePort(t), BasePolicy: base}
	require.NoError(t, local.MakeDirs())
	git := makeCommits(t, local.RepoDir())
	if extra != nil {
		local.Extra = extra(git)
	}
	ctx := context.Background()
	t.Cleanup(func() { local.Stop() })
	require.NoError(t, local.StartServer(ctx, server))
	require.NoError(t, local.StartRoles(ctx))
	require.NoError(t, local.WaitGateway(ctx, time.Minute))
	// Tests that play rogue clients call as the admin to reach the roles' checks.
	c, err := local.Dial(ctx, devstack.IdentityAdmin)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return &stackT{t: t, local: local, client: c, tokens: demoTokens(t, root), cli: cli, ring: keyRing(t, local), git: git}
}

// keyRing reads the public keys the stack composed into its policy: the
// keys an auditor checks an exported trail with.
func keyRing(t *testing.T, local *devstack.Local) attest.KeyRing {
	p, _, err := policy.Load(local.PolicyFile())
	require.NoError(t, err)
	require.NoError(t, p.RequireKeys(local.PolicyFile()), "the stack lists every signing role's key")
	ring, err := p.KeyRing()
	require.NoError(t, err)
	return ring
}

// starter runs the real starter binary against the stack as the release
// manager, with who's demo token if who is set, and returns its combined
// output and exit code.
func (s *stackT) starter(who string, args ...string) (string, int) {
	env := append(devstack.BaseEnv(), s.local.ClientEnv(devstack.IdentityReleaseManager)...)
	env = append(env, "FOUREYES_GATEWAY_URL="+s.local.GatewayURL())
	if who != "" {
		env = append(env, "FOUREYES_TOKEN="+s.tokens[who])
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.local.BinDir, "starter"), args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	}
	require.NoError(s.t, err, "starter %v: %s", args, out)
	return string(out), 0
}

func freePort(t *testing.T) int {
	p, err := devstack.FreePort()
	require.NoError(t, err)
	return p
}

// demoTokens maps identities to the demo tokens of deploy/demo-tokens.env.
func demoTokens(t *testing.T, root string) map[string]string {
	env, err := devstack.ReadEnvFile(filepath.Join(root, "deploy", "demo-tokens.env"))
	require.NoError(t, err)
	ids := map[string]string{"ALICE": "alice", "BOB": "bob", "CAROL": "carol", "DAVE": "dave",
		"ERIN": "erin", "RITA": "rita", "CI_BOT": "ci-bot"}
	tokens := map[string]string{}
	for key, id := range ids {
		v, ok := devstack.LookupEnv(env, "FOUREYES_DEMO_TOKEN_"+key)
		require.True(t, ok, "demo token for %s", id)
		tokens[id] = v
	}
	return tokens
}

// start starts a release the way `starter start` does.
func (s *stackT) start(service, env, commit string, authors []string, requester string) client.WorkflowRun {
	id := fmt.Sprintf("release-%s-%s-%s", service, env, uuid.NewString())
	run, err := s.client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.QueueOrchestrator,
	}, "Release", workflows.ReleaseRequest{Service: service, Environment: env, Commit: commit,
		Authors: authors, Requester: requester, Title: "integration"})
	require.NoError(s.t, err)
	return run
}

func (s *stackT) status(id string) workflows.Status {
	v, err := s.client.QueryWorkflow(context.Background(), id, "", workflows.QueryStatus)
	require.NoError(s.t, err)
	var st workflows.Status
	require.NoError(s.t, v.Get(&st))
	return st
}

// waitStatus polls the status query until the release reaches want.
func (s *stackT) waitStatus(id, want string) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s.status(id).Status == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("release %s never reached %s (last: %s)", id, want, s.status(id).Status)
}

// decide posts a decision to the gateway as identity, with its token.
func (s *stackT) decide(id, gate, verdict, who string) (int, gateway.Answer) {
	body, _ := json.Marshal(gateway.Request{ReleaseID: id, Gate: gate, Verdict: verdict,
		Comment: who + " via integration test"})
	req, err := http.NewRequest(http.MethodPost, s.local.GatewayURL()+"/v1/decisions", bytes.NewReader(body))
	require.NoError(s.t, err)
	req.Header.Set("Authorization", "Bearer "+s.tokens[who])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	var a gateway.Answer
	require.NoError(s.t, json.NewDecoder(resp.Body).Decode(&a))
	return resp.StatusCode, a
}

func (s *stackT) result(run client.WorkflowRun) workflows.ReleaseResult {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var res workflows.ReleaseResult
	require.NoError(s.t, run.Get(ctx, &res))
	return res
}
