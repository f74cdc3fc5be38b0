// Package integration runs foureyes as users run it: the real Temporal dev
// server and each role as its own OS process, driven over real HTTP.
package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/stacktest"
)

// stackT is one running local stack for a test.
type stackT struct {
	*stacktest.Stack
	t   *testing.T
	cli string  // the Temporal CLI
	git commits // the commits the tests release
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
	return startStackWithPrepare(t, extra, promotionRules, nil)
}

// startStackWithPrepare is startStackWith; prepare (optional) changes the
// stack's settings before it starts (e.g. a Web UI port).
func startStackWithPrepare(t *testing.T, extra func(commits) map[string][]string, promotionRules bool,
	prepare func(*devstack.Local) error) *stackT {
	if testing.Short() {
		t.Skip("integration test skipped in -short mode")
	}
	root, err := devstack.RepoRoot()
	require.NoError(t, err)
	cli, err := devstack.EnsureTemporalCLI(root, io.Discard)
	require.NoError(t, err, "the Temporal CLI (operators' client) is needed: go run ./stack test installs it")
	s := &stackT{t: t, cli: cli}
	opts := stacktest.Options{TempPrefix: "foureyes-integration-", Prepare: func(st *stacktest.Stack) error {
		s.git = makeCommits(t, st.Local.RepoDir())
		if extra != nil {
			st.Local.Extra = extra(s.git)
		}
		if prepare != nil {
			return prepare(st.Local)
		}
		return nil
	}}
	opts.BasePolicy = stacktest.WithoutOwnProofs
	if !promotionRules {
		opts.BasePolicy = stacktest.WithoutPromotion
	}
	s.Stack, err = stacktest.Start(context.Background(), opts)
	if s.Stack != nil {
		t.Cleanup(s.Stop)
	}
	require.NoError(t, err)
	return s
}

// starter runs the real starter binary against the stack as the release
// manager, with who's demo token if who is set, and returns its combined
// output and exit code.
func (s *stackT) starter(who string, args ...string) (string, int) {
	env := append(devstack.BaseEnv(), s.Local.ClientEnv(devstack.IdentityReleaseManager)...)
	env = append(env, "FOUREYES_GATEWAY_URL="+s.Local.GatewayURL())
	env = append(env, s.Local.TraceEnv("starter")...)
	if who != "" {
		env = append(env, "FOUREYES_TOKEN="+s.Tokens[who])
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.Local.BinDir, "starter"), args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	}
	require.NoError(s.t, err, "starter %v: %s", args, out)
	return string(out), 0
}

// start starts a release the way `starter start` does.
func (s *stackT) start(service, env, commit string, authors []string, requester string) client.WorkflowRun {
	id := fmt.Sprintf("release-%s-%s-%s", service, env, uuid.NewString())
	req := api.ReleaseRequest{Service: service, Environment: env, Commit: commit,
		Authors: authors, Requester: requester, Title: "integration"}
	// With the search attributes `starter start` sets: a recorded history
	// shows what the workflow itself writes for a started release.
	run, err := s.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: id, TaskQueue: api.QueueOrchestrator, TypedSearchAttributes: api.StartAttributes(req),
	}, api.WorkflowRelease, req)
	require.NoError(s.t, err)
	return run
}

// callTimeout bounds each of the tests' queries and waits.
const callTimeout = 30 * time.Second

func (s *stackT) status(id string) api.Status {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	st, err := s.Status(ctx, id)
	require.NoError(s.t, err)
	return st
}

// waitStatus polls the status query until the release reaches want.
func (s *stackT) waitStatus(id, want string) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if err := s.WaitStatus(ctx, id, want); err != nil {
		s.t.Fatalf("release %s never reached %s: %v", id, want, err)
	}
}

// decide posts a decision to the gateway as identity, with its token.
func (s *stackT) decide(id, gate, verdict, who string) (int, api.Answer) {
	code, a, err := s.DecideOnce(context.Background(), who, api.DecisionRequest{ReleaseID: id, Gate: gate,
		Verdict: verdict, Comment: who + " via integration test"})
	require.NoError(s.t, err)
	return code, a
}

func (s *stackT) trail(id string) []audit.Entry {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	entries, err := s.Trail(ctx, id)
	require.NoError(s.t, err)
	return entries
}

// waitTrail polls the audit query until an entry satisfies ok.
func (s *stackT) waitTrail(id string, ok func(audit.Entry) bool) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if _, err := s.WaitEntry(ctx, id, ok); err != nil {
		s.t.Fatalf("release %s: the awaited entry never reached the audit trail: %v", id, err)
	}
}

func (s *stackT) result(run client.WorkflowRun) api.ReleaseResult {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := api.ResultOf(ctx, run)
	require.NoError(s.t, err)
	return res
}
