package activities

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/foureyes/foureyes/api"
)

func TestBuildDefaultIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	first := build(t, dir, "web", commitA)
	second := build(t, dir, "web", commitA)
	elsewhere := build(t, t.TempDir(), "web", commitA)
	other := build(t, dir, "web", commitB)

	assert.Equal(t, filepath.Join(dir, "sha256", first.Digest), first.ArtifactRef, "named by its digest")
	assert.Equal(t, first.Digest, second.Digest)
	assert.Equal(t, first.Digest, elsewhere.Digest)
	assert.NotEqual(t, first.Digest, other.Digest)
	assert.Contains(t, second.Output, "reused")
	assert.Equal(t, "foureyes-build@test", first.Executor)
	got, err := sha256File(first.ArtifactRef)
	require.NoError(t, err)
	assert.Equal(t, got, first.Digest)
	artifacts, inProgress := stored(t, dir)
	assert.ElementsMatch(t, []string{first.Digest, other.Digest}, artifacts)
	assert.Empty(t, inProgress)
	assert.Empty(t, listDir(t, dir))
	info, err := os.Stat(first.ArtifactRef)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o444), info.Mode().Perm(), "read-only once written")
	assert.Equal(t, commitA, first.Commit)
}

func TestBuildRefusesBadInput(t *testing.T) {
	cases := map[string]api.BuildInput{
		"commit":   {Service: "web", Commit: "abc123"},
		"commit ":  {Service: "web", Commit: strings.Repeat("A", 40)},
		"service":  {Service: "../etc", Commit: commitA},
		"service ": {Service: "Web", Commit: commitA},
	}
	for field, in := range cases {
		dir := t.TempDir()
		b := &BuildActivities{Signer: buildKey, ArtifactDir: dir}
		_, err := execute[api.BuildResult](t, b, b.Build, in)
		appErr := requireAppError(t, err, ErrTypeInvalidInput, true)
		assert.Contains(t, appErr.Error(), "invalid "+strings.TrimSpace(field))
		assert.Empty(t, listDir(t, dir))
	}
}

func TestBuildCommandSeesOnlyItsEnvironment(t *testing.T) {
	t.Setenv("FOUREYES_DEPLOY_CREDENTIALS", "foreign-secret")
	t.Setenv("WORKER_ONLY_VARIABLE", "leak")
	dir := t.TempDir()
	b := &BuildActivities{Signer: buildKey, Identity: "foureyes-build@test", ArtifactDir: dir, RegistryToken: "reg-token",
		Command: `env | sort > "$FOUREYES_ARTIFACT_PATH"; echo built it`}
	res, err := execute[api.BuildResult](t, b, b.Build,
		api.BuildInput{ReleaseID: "rel-1", Service: "web", Environment: "prod", Commit: commitA})
	require.NoError(t, err)

	data, err := os.ReadFile(res.ArtifactRef)
	require.NoError(t, err)
	env := string(data)
	for _, want := range []string{"FOUREYES_COMMIT=" + commitA, "FOUREYES_SERVICE=web", "FOUREYES_ENVIRONMENT=prod",
		"FOUREYES_RELEASE_ID=rel-1", "FOUREYES_ARTIFACT_PATH=" + filepath.Join(dir, ".tmp"), "FOUREYES_BUILD_REGISTRY_TOKEN=reg-token", "PATH="} {
		assert.Contains(t, env, want)
	}
	assert.NotContains(t, env, "foreign-secret")
	assert.NotContains(t, env, "WORKER_ONLY_VARIABLE")
	assert.Contains(t, res.Output, "built it")
	artifacts, inProgress := stored(t, dir)
	assert.Equal(t, []string{res.Digest}, artifacts)
	assert.Empty(t, inProgress, "no temp file left")
}

func TestBuildCommandWithoutTokenGetsNoTokenVariable(t *testing.T) {
	dir := t.TempDir()
	b := &BuildActivities{Signer: buildKey, ArtifactDir: dir, Command: `env > "$FOUREYES_ARTIFACT_PATH"`}
	res, err := execute[api.BuildResult](t, b, b.Build, api.BuildInput{Service: "web", Commit: commitA})
	require.NoError(t, err)
	data, err := os.ReadFile(res.ArtifactRef)
	require.NoError(t, err)
	assert.NotContains(t, string(data), "FOUREYES_BUILD_REGISTRY_TOKEN")
}

func TestBuildCommandReusesIdenticalArtifact(t *testing.T) {
	dir := t.TempDir()
	b := &BuildActivities{Signer: buildKey, ArtifactDir: dir, Command: `printf '%s' "$FOUREYES_COMMIT" > "$FOUREYES_ARTIFACT_PATH"`}
	in := api.BuildInput{Service: "web", Commit: commitA}
	first, err := execute[api.BuildResult](t, b, b.Build, in)
	require.NoError(t, err)
	before, err := os.Stat(first.ArtifactRef)
	require.NoError(t, err)
	second, err := execute[api.BuildResult](t, b, b.Build, in)
	require.NoError(t, err)
	after, err := os.Stat(second.ArtifactRef)
	require.NoError(t, err)
	assert.Equal(t, first.Digest, second.Digest)
	assert.True(t, os.SameFile(before, after), "identical artifact is kept, not replaced")
}

func TestBuildCommandFailures(t *testing.T) {
	cases := map[string]struct {
		command, want string
		timeout       time.Duration
		nonRetryable  bool
	}{
		"exit":    {`echo compiling; echo boom >&2; exit 3`, "boom", 0, true},
		"no file": {`echo nothing written`, "wrote no artifact", 0, true},
		"timeout": {`sleep 30 & sleep 30; wait`, "timed out", 300 * time.Millisecond, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			b := &BuildActivities{Signer: buildKey, ArtifactDir: dir, Command: c.command, Timeout: c.timeout}
			start := time.Now()
			_, err := execute[api.BuildResult](t, b, b.Build, api.BuildInput{Service: "web", Commit: commitA})
			appErr := requireAppError(t, err, ErrTypeCommandFailed, c.nonRetryable)
			assert.Contains(t, appErr.Error(), c.want)
			// Killing only sh would leave the background sleep holding the output
			// pipe until WaitDelay (5s).
			assert.Less(t, time.Since(start), 4*time.Second, "process group killed on timeout")
			artifacts, inProgress := stored(t, dir)
			assert.Empty(t, artifacts, "no partial artifact")
			assert.Empty(t, inProgress, "no partial artifact")
		})
	}
}

func TestCommandHeartbeats(t *testing.T) {
	defer func(d time.Duration) { heartbeatEvery = d }(heartbeatEvery)
	heartbeatEvery = 10 * time.Millisecond
	var beats atomic.Int32
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { beats.Add(1) })
	b := &BuildActivities{Signer: buildKey, ArtifactDir: t.TempDir(), Command: `sleep 0.3; echo x > "$FOUREYES_ARTIFACT_PATH"`}
	env.RegisterActivity(b)
	_, err := env.ExecuteActivity(b.Build, api.BuildInput{Service: "web", Commit: commitA})
	require.NoError(t, err)
	assert.Positive(t, beats.Load())
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	b := &tailBuffer{max: 4}
	_, _ = b.Write([]byte("abc"))
	_, _ = b.Write([]byte("defg"))
	assert.Equal(t, "defg", b.String())
}
