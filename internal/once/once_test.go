package once

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newStep(t *testing.T) Step { return Step{Dir: t.TempDir() + "/runs/rel-1", Kind: "deploy"} }

func acquire(t *testing.T, s Step) *Lock {
	lock, err := s.Acquire(t.Context())
	require.NoError(t, err)
	t.Cleanup(func() { lock.Close() })
	return lock
}

func state(t *testing.T, s Step) State {
	st, err := s.State()
	require.NoError(t, err)
	return st
}

func TestNeverRunStepHasNoState(t *testing.T) {
	s := newStep(t)
	acquire(t, s)
	assert.Equal(t, State{}, state(t, s))
}

func TestRunRecordsExitAndOutput(t *testing.T) {
	s := newStep(t)
	res, err := s.Run(t.Context(), acquire(t, s), `echo hello; exit 3`, nil, 0)
	require.NoError(t, err)
	assert.Equal(t, Result{RC: 3, Output: "hello\n"}, res)
	st := state(t, s)
	assert.True(t, st.Started && st.Exited)
	assert.Equal(t, 3, st.RC)
	assert.Equal(t, Result{RC: 3, Output: "hello\n", Resumed: true}, s.Earlier(st))
}

// A command killed midway (its worker gone) leaves .started without .exit:
// its outcome is unknown.
func TestKilledCommandHasUnknownOutcome(t *testing.T) {
	s := newStep(t)
	cmd, err := s.Start(acquire(t, s), `sleep 30`, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return state(t, s).Started }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL))
	_ = cmd.Wait()
	st := state(t, s)
	assert.False(t, st.Exited)
	assert.Equal(t, -1, s.Earlier(st).RC)
}

// The command's wrapper holds the lock: an attempt waits for a command
// whose worker let go of it, and then reads its outcome.
func TestAcquireWaitsForOrphanedCommand(t *testing.T) {
	s := newStep(t)
	lock, err := s.Acquire(t.Context())
	require.NoError(t, err)
	cmd, err := s.Start(lock, `sleep 0.4; echo done`, nil)
	require.NoError(t, err)
	go cmd.Wait()
	lock.Close() // the worker died
	start := time.Now()
	acquire(t, s)
	assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
	st := state(t, s)
	assert.Equal(t, Result{RC: 0, Output: "done\n", Resumed: true}, s.Earlier(st))
}

func TestAcquireGivesUpWhenCancelled(t *testing.T) {
	s := newStep(t)
	acquire(t, s)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := s.Acquire(ctx) // flock is per open file: a second one waits
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestRunTimeoutKillsTheCommand(t *testing.T) {
	s := newStep(t)
	res, err := s.Run(t.Context(), acquire(t, s), `echo before; sleep 30`, nil, 100*time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, Result{RC: -1, TimedOut: true, Output: "before\n"}, res)
}

func TestRunForgetsEarlierRun(t *testing.T) {
	s := newStep(t)
	lock := acquire(t, s)
	_, err := s.Run(t.Context(), lock, `echo first; exit 1`, nil, 0)
	require.NoError(t, err)
	res, err := s.Run(t.Context(), lock, `echo second`, nil, 0)
	require.NoError(t, err)
	assert.Equal(t, Result{RC: 0, Output: "second\n"}, res)
}

func TestFenceIsSeenByLaterAttempts(t *testing.T) {
	s := newStep(t)
	lock := acquire(t, s)
	require.NoError(t, s.Fence("fenced by rollback"))
	lock.Close()
	acquire(t, s)
	assert.Equal(t, State{Fenced: true}, state(t, s))
}

func TestOutputKeepsTheTail(t *testing.T) {
	s := newStep(t)
	res, err := s.Run(t.Context(), acquire(t, s), `yes x | head -c 10000; echo end`, nil, 0)
	require.NoError(t, err)
	assert.Len(t, res.Output, OutputTail)
	assert.True(t, strings.HasSuffix(res.Output, "end\n"))
}

func TestCommandGetsOnlyTheGivenEnvironment(t *testing.T) {
	s := newStep(t)
	t.Setenv("ONCE_TEST_LEAK", "leaked")
	res, err := s.Run(t.Context(), acquire(t, s), `echo "$ONCE_TEST_X${ONCE_TEST_LEAK:-}"`,
		[]string{"ONCE_TEST_X=given", "PATH=" + os.Getenv("PATH")}, 0)
	require.NoError(t, err)
	assert.Equal(t, "given\n", res.Output)
}

func TestWriteFileReplacesWholeAndKeepsIdentical(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "record.json")
	changed, err := WriteFile(path, []byte("one\n"))
	require.NoError(t, err)
	assert.True(t, changed)
	changed, err = WriteFile(path, []byte("one\n"))
	require.NoError(t, err)
	assert.False(t, changed, "an identical record is kept")
	changed, err = WriteFile(path, []byte("two\n"))
	require.NoError(t, err)
	assert.True(t, changed)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "two\n", string(data))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm(), "other roles read records")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temp file left behind")
}
