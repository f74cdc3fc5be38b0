package activities

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/foureyes/foureyes/api"
)

// counted is a deploy fixture whose command appends the release id to a
// counter file outside the worker, then sleeps: runs are counted by effect.
func counted(t *testing.T, sleep string) (*deployFixture, string) {
	f := newDeployFixture(t)
	counter := filepath.Join(t.TempDir(), "runs")
	f.d.Command = `echo "$FOUREYES_RELEASE_ID" >> ` + counter + `; sleep ` + sleep
	f.d.RollbackCommand = `echo "rollback $FOUREYES_RELEASE_ID" >> ` + counter
	return f, counter
}

func runs(t *testing.T, counter string) []string {
	data, err := os.ReadFile(counter)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return strings.Fields(strings.TrimSpace(string(data)))
}

// orphan starts the deploy command the way a worker does, then forgets it:
// what a worker killed mid-deploy leaves behind.
func orphan(t *testing.T, f *deployFixture, in api.DeployInput) *os.Process {
	o := f.d.step(in, "deploy")
	lock, err := o.Acquire(t.Context())
	require.NoError(t, err)
	defer lock.Close()
	cmd, err := o.Start(lock, f.d.Command, f.d.env(in, in.ArtifactRef))
	require.NoError(t, err)
	go cmd.Wait() // reap it, as init would
	return cmd.Process
}

func TestDeployResumesCommandOrphanedByKilledWorker(t *testing.T) {
	f, counter := counted(t, "0.5")
	in := f.input(t, "rel-1", commitA)
	orphan(t, f, in)
	start := time.Now()
	res := f.step(t, deployFn, in)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "waited for the running command")
	assert.Contains(t, res.Output, "resumed")
	assert.Equal(t, []string{"rel-1"}, runs(t, counter))
	assert.Equal(t, "rel-1", f.current(t).ReleaseID)
}

func TestDeployAfterCommandBeforeRecordDoesNotRunAgain(t *testing.T) {
	f, counter := counted(t, "0")
	in := f.input(t, "rel-1", commitA)
	f.step(t, deployFn, in)
	require.NoError(t, os.Remove(filepath.Join(f.state, "prod", "web.json"))) // crash before the record
	res := f.step(t, deployFn, in)
	assert.Contains(t, res.Output, "not run again")
	assert.Equal(t, []string{"rel-1"}, runs(t, counter))
	assert.Equal(t, "rel-1", f.current(t).ReleaseID)
}

func TestDeployKilledMidwayIsNotRunAgain(t *testing.T) {
	f, counter := counted(t, "30")
	in := f.input(t, "rel-1", commitA)
	p := orphan(t, f, in)
	require.Eventually(t, func() bool { return len(runs(t, counter)) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, syscall.Kill(-p.Pid, syscall.SIGKILL)) // the host lost it
	_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
	assert.Contains(t, requireAppError(t, err, ErrTypeDeployInterrupted, true).Error(), "not running it again")
	assert.Equal(t, []string{"rel-1"}, runs(t, counter))
	assert.Nil(t, f.current(t))
}

func TestDeployTimedOutIsNotRunAgain(t *testing.T) {
	f, counter := counted(t, "30")
	f.d.Timeout = 200 * time.Millisecond
	in := f.input(t, "rel-1", commitA)
	for range 2 {
		_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
		requireAppError(t, err, ErrTypeDeployInterrupted, true)
	}
	assert.Equal(t, []string{"rel-1"}, runs(t, counter))
}

func TestDuplicatedDeployTasksRunTheCommandOnce(t *testing.T) {
	f, counter := counted(t, "0.3")
	in := f.input(t, "rel-1", commitA)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			res, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
			assert.NoError(t, err)
			assert.True(t, res.OK)
		})
	}
	wg.Wait()
	assert.Equal(t, []string{"rel-1"}, runs(t, counter))
}

// A stopping worker leaves the command running; the next attempt resumes it.
func TestDeployOutlivesStoppingWorker(t *testing.T) {
	f, counter := counted(t, "0.5")
	in := f.input(t, "rel-1", commitA)
	var s testsuite.WorkflowTestSuite
	env := withArgs(s.NewTestActivityEnvironment(), in)
	env.RegisterActivity(f.d)
	stop := make(chan struct{})
	env.SetWorkerStopChannel(stop)
	time.AfterFunc(100*time.Millisecond, func() { close(stop) })
	_, err := env.ExecuteActivity(f.d.Deploy, in)
	requireAppError(t, err, ErrTypeWorkerStopping, false)
	assert.Nil(t, f.current(t))
	assert.Contains(t, f.step(t, deployFn, in).Output, "resumed")
	assert.Equal(t, []string{"rel-1"}, runs(t, counter))
}

// A rollback of a release whose deploy never started fences it and runs no
// command: there is nothing of this release to undo, and the rollback
// command would undo whatever release is deployed.
func TestRollbackFencesDeployOfItsRelease(t *testing.T) {
	f, counter := counted(t, "0")
	in := f.input(t, "rel-1", commitA)
	res := f.step(t, rollbackFn, in) // e.g. cancelled while its deploy task was still queued
	assert.Contains(t, res.Output, "never deployed release rel-1")
	_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
	requireAppError(t, err, ErrTypeDeployFenced, true)
	assert.Empty(t, runs(t, counter), "neither the rollback nor the fenced deploy ran")
}

func TestRollbackWaitsForRunningDeploy(t *testing.T) {
	f, counter := counted(t, "0.5")
	in := f.input(t, "rel-1", commitA)
	orphan(t, f, in)
	f.step(t, rollbackFn, verifyFailed(t, in))
	assert.Equal(t, []string{"rel-1", "rollback", "rel-1"}, runs(t, counter), "rollback ran after the deploy ended")
}

func TestRollbackCommandRunsAgainOnlyAfterFailure(t *testing.T) {
	f, counter := counted(t, "0")
	in := f.input(t, "rel-1", commitA)
	f.step(t, deployFn, in)
	f.d.RollbackCommand = `echo "rollback" >> ` + counter + `; exit 1`
	in = verifyFailed(t, in)
	_, err := execute[api.StepResult](t, f.d, f.d.Rollback, in)
	requireAppError(t, err, ErrTypeCommandFailed, false)
	f.d.RollbackCommand = `echo "rollback" >> ` + counter
	f.step(t, rollbackFn, in)
	assert.Contains(t, f.step(t, rollbackFn, in).Output, "not run again")
	assert.Equal(t, []string{"rel-1", "rollback", "rollback"}, runs(t, counter))
}

func TestDeployRefusesReleaseIDThatIsNotAName(t *testing.T) {
	f := newDeployFixture(t)
	in := f.input(t, "rel-1", commitA)
	for _, id := range []string{"", "../x", "a/b", ".hidden", "a b"} {
		in.ReleaseID = id
		_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
		requireAppError(t, err, ErrTypeInvalidInput, true)
	}
}

// A retried build of a release returns the artifact an earlier attempt
// recorded, without running the command again, even if the command is not
// reproducible; duplicated attempts take turns.
func TestBuildOncePerRelease(t *testing.T) {
	dir := t.TempDir()
	counter := filepath.Join(t.TempDir(), "builds")
	b := &BuildActivities{Signer: buildKey, Identity: "foureyes-build@test", ArtifactDir: dir,
		Command: `echo "$FOUREYES_RELEASE_ID" >> ` + counter + `; date +%s%N > "$FOUREYES_ARTIFACT_PATH"`}
	in := api.BuildInput{ReleaseID: "rel-1", Service: "web", Environment: "prod", Commit: commitA}
	digests := make(chan string, 3)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			res, err := execute[api.BuildResult](t, b, b.Build, in)
			assert.NoError(t, err)
			digests <- res.Digest
		})
	}
	wg.Wait()
	close(digests)
	first := <-digests
	for d := range digests {
		assert.Equal(t, first, d)
	}
	assert.Equal(t, []string{"rel-1"}, runs(t, counter))
	in.ReleaseID = "rel-2" // another release builds for itself
	_, err := execute[api.BuildResult](t, b, b.Build, in)
	require.NoError(t, err)
	assert.Equal(t, []string{"rel-1", "rel-2"}, runs(t, counter))
}
