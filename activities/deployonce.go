package activities

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/once"
)

// Error types of the deploy role's at-most-once commands (non-retryable).
const (
	// ErrTypeDeployInterrupted: the deploy command was killed midway or timed
	// out; its outcome is unknown and it is not run again.
	ErrTypeDeployInterrupted = "DeployInterrupted"
	// ErrTypeDeployFenced: the release was rolled back; its deploy never runs.
	ErrTypeDeployFenced = "DeployFenced"
)

// releaseIDRE: a release id names a folder of the state dir.
var releaseIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@:-]{0,254}$`)

func checkReleaseID(v string) error {
	if !releaseIDRE.MatchString(v) {
		return invalid("release_id", v, "want letters, digits and . _ @ : -, starting with a letter or digit")
	}
	return nil
}

// step is where this release's runs of kind are kept:
// STATE_DIR/<environment>/<service>.runs/<release>/.
func (a *DeployActivities) step(in api.DeployInput, kind string) once.Step {
	return once.Step{Dir: filepath.Join(a.StateDir, in.Environment, in.Service+".runs", in.ReleaseID), Kind: kind}
}

// deployCommand runs Command unless an earlier attempt started it; the
// caller holds the deploy lock.
func (a *DeployActivities) deployCommand(ctx context.Context, in api.DeployInput, path string, lock *once.Lock) (string, error) {
	o := a.step(in, "deploy")
	st, err := o.State()
	if err != nil {
		return "", err
	}
	if st.Fenced {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"release %s was rolled back; its deploy never runs again", in.ReleaseID), ErrTypeDeployFenced, nil)
	}
	if a.Command == "" {
		return "", nil
	}
	res := o.Earlier(st)
	if !st.Started {
		if res, err = o.Run(ctx, lock, a.Command, a.env(in, path), a.Timeout); err != nil {
			return "", err
		}
	}
	return deployOutcome(in, st, res, a.Timeout)
}

// deployOutcome: only a clean exit deploys; anything else is final.
func deployOutcome(in api.DeployInput, st once.State, res once.Result, timeout time.Duration) (string, error) {
	switch {
	case res.RC == 0 && res.Resumed:
		return res.Output + fmt.Sprintf("resumed: the deploy command started at %s had already run; not run again\n",
			st.StartedAt.Format(time.RFC3339)), nil
	case res.RC == 0:
		return res.Output, nil
	case res.RC > 0:
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"deploy command failed: exit status %d\n%s", res.RC, res.Output), ErrTypeCommandFailed, nil)
	}
	how := "was killed before it reported an outcome"
	if res.TimedOut {
		how = fmt.Sprintf("timed out after %s and was killed", timeout)
	}
	return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"deploy command of release %s %s; not running it again (at most once per release): check the environment\n%s",
		in.ReleaseID, how, res.Output), ErrTypeDeployInterrupted, nil)
}

// rollbackCommand runs RollbackCommand unless an earlier attempt ran it to
// success; a failed or interrupted rollback may run again (retryable).
func (a *DeployActivities) rollbackCommand(ctx context.Context, in api.DeployInput, prev *deployState) (string, error) {
	if a.RollbackCommand == "" {
		return "", nil
	}
	o := a.step(in, "rollback")
	lock, err := o.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if st, err := o.State(); err != nil || (st.Exited && st.RC == 0) {
		return o.Output() + "the rollback command had already run; not run again\n", err
	}
	res, err := o.Run(ctx, lock, a.RollbackCommand, withPrevious(a.env(in, a.artifactCopy(in)), prev), a.Timeout)
	switch {
	case err != nil:
		return "", err
	case res.RC != 0:
		return "", temporal.NewApplicationError(fmt.Sprintf("rollback command failed (exit %d)\n%s", res.RC, res.Output),
			ErrTypeCommandFailed)
	}
	return res.Output, nil
}

// ErrTypeWorkerStopping: the worker stopped while its command ran on; the
// next attempt resumes it (retryable). Kept here for the callers of the
// deploy role's errors.
const ErrTypeWorkerStopping = once.ErrTypeWorkerStopping
