package activities

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/foureyes/foureyes/api"
)

var (
	commitA = strings.Repeat("a", 40)
	commitB = strings.Repeat("b", 40)
)

// execute runs one activity method of impl in a test activity environment.
func execute[T any](t *testing.T, impl, fn any, args ...any) (T, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := withArgs(s.NewTestActivityEnvironment(), args...)
	env.RegisterActivity(impl)
	var out T
	v, err := env.ExecuteActivity(fn, args...)
	if err != nil {
		return out, err
	}
	require.NoError(t, v.Get(&out))
	return out, nil
}

// argsKey holds an activity's arguments in its context, for test callers
// (testCaller) that play the server's part: the run that called.
type argsKey struct{}

func withArgs(env *testsuite.TestActivityEnvironment, args ...any) *testsuite.TestActivityEnvironment {
	return env.SetWorkerOptions(worker.Options{BackgroundActivityContext: context.WithValue(context.Background(), argsKey{}, args)})
}

// requireAppError asserts err is an ApplicationError of type typ.
func requireAppError(t *testing.T, err error, typ string, nonRetryable bool) *temporal.ApplicationError {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an ApplicationError, got %T: %v", err, err)
	require.Equal(t, typ, appErr.Type(), appErr.Error())
	require.Equal(t, nonRetryable, appErr.NonRetryable(), appErr.Error())
	return appErr
}

// build makes a default artifact in dir and returns the result.
func build(t *testing.T, dir, service, commit string) api.BuildResult {
	t.Helper()
	b := &BuildActivities{Identity: testBuilder, ArtifactDir: dir, Signer: buildKey}
	res, err := execute[api.BuildResult](t, b, b.Build, api.BuildInput{ReleaseID: "r-" + commit[:4], Service: service, Environment: "staging", Commit: commit})
	require.NoError(t, err)
	return res
}

// listDir lists what dir holds besides its own folders (the artifact
// store sha256/, the records .runs/, .builds/, builds in progress .tmp/):
// nothing, in an artifact folder.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && e.Name() != storeDir {
			names = append(names, e.Name())
		}
	}
	return names
}

// stored lists the artifacts in dir's store (sha256/<digest>) and of
// builds in progress (.tmp/<name>).
func stored(t *testing.T, dir string) (artifacts, inProgress []string) {
	t.Helper()
	return names(t, filepath.Join(dir, storeDir)), names(t, filepath.Join(dir, tmpDir))
}

func names(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}
