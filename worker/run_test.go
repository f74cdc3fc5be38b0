package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/workflows"
)

func repoFile(t *testing.T, rel string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", rel)
}

// runWith runs the worker with env as its whole environment.
func runWith(ctx context.Context, env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(ctx, args, envconfig.MapLookuper(env), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestEveryRoleIsWired(t *testing.T) {
	var wired []string
	for name := range roles {
		wired = append(wired, name)
	}
	sort.Strings(wired)
	want := append([]string(nil), config.Roles...)
	sort.Strings(want)
	assert.Equal(t, want, wired)
}

func TestStartUpErrorsExit2WithOneLine(t *testing.T) {
	k := newTestKeys(t)
	badPolicy := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(badPolicy, []byte("version: 7\n"), 0o644))
	cases := map[string]struct {
		args []string
		env  map[string]string
		want []string
	}{
		"no role":          {nil, nil, []string{"-role", "want one of"}},
		"unknown role":     {[]string{"-role", "janitor"}, nil, []string{`"janitor"`}},
		"missing variable": {[]string{"-role", "build"}, nil, []string{"FOUREYES_BUILD_ARTIFACT_DIR"}},
		"role from env":    {nil, map[string]string{"FOUREYES_ROLE": "deploy"}, []string{"FOUREYES_DEPLOY_"}},
		"foreign secret": {[]string{"-role", "build"}, map[string]string{
			"FOUREYES_BUILD_ARTIFACT_DIR": t.TempDir(), "FOUREYES_DEPLOY_CREDENTIALS": "s3cr3t-value"},
			[]string{"FOUREYES_DEPLOY_CREDENTIALS"}},
		"bad policy": {[]string{"-role", "approval"}, k.env(t, "approval", "FOUREYES_APPROVAL_POLICY_FILE", badPolicy),
			[]string{badPolicy, "version"}},
		"no signing key": {[]string{"-role", "deploy"}, k.env(t, "deploy", "FOUREYES_DEPLOY_SIGNING_KEY_FILE", ""),
			[]string{"FOUREYES_DEPLOY_SIGNING_KEY_FILE"}},
		"another role's key": {[]string{"-role", "build"}, k.env(t, "build", "FOUREYES_DEPLOY_SIGNING_KEY_FILE", k.key("deploy")),
			[]string{"FOUREYES_DEPLOY_SIGNING_KEY_FILE", "a secret of role deploy"}},
		"policy without keys": {[]string{"-role", "orchestrator"}, k.env(t, "orchestrator",
			"FOUREYES_ORCHESTRATOR_POLICY_FILE", k.bare), []string{k.bare, "keys.orchestrator"}},
		"bad identity": {[]string{"-role", "review"}, k.env(t, "review", "FOUREYES_REVIEW_IDENTITY", "mallory"),
			[]string{"FOUREYES_REVIEW_IDENTITY"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runWith(context.Background(), c.env, c.args...)
			assert.Equal(t, exitConfig, code)
			assert.Empty(t, stdout)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			last := lines[len(lines)-1]
			assert.True(t, strings.HasPrefix(last, "worker: "), stderr)
			for _, w := range c.want {
				assert.Contains(t, last, w)
			}
			assert.NotContains(t, stderr, "s3cr3t-value", "secrets are never printed")
			assert.NotContains(t, stderr, "PRIVATE KEY", "keys are never printed")
		})
	}
}

func TestUnreachableTemporalExits1(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	code, _, stderr := runWith(ctx, newTestKeys(t).env(t, "build", "TEMPORAL_ADDRESS", "127.0.0.1:1"), "-role", "build")
	assert.Equal(t, exitRuntime, code)
	assert.Contains(t, stderr, "worker: role build: connect to Temporal at 127.0.0.1:1")
}

// A stage's heartbeats reach the server several times per heartbeat
// timeout, so a short server or database restart does not time out the
// attempt of a role that is alive (the SDK's default sends one per 0.8 ×
// the timeout).
func TestStageHeartbeatsOutliveAShortOutage(t *testing.T) {
	p := &process{role: &role{identity: "deploy-worker"}}
	opts := p.workerOptions(make(chan error, 1))
	require.Positive(t, opts.MaxHeartbeatThrottleInterval, "the SDK's default throttle: one heartbeat per 16 of 20 s")
	assert.LessOrEqual(t, 4*opts.MaxHeartbeatThrottleInterval, workflows.StageHeartbeatTimeout,
		"at least four heartbeats per stage heartbeat timeout")
}
