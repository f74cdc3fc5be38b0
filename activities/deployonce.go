package activities

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
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

// once is where this release's runs of kind are kept:
// STATE_DIR/<environment>/<service>.runs/<release>/.
func (a *DeployActivities) once(in api.DeployInput, kind string) once {
	return once{dir: filepath.Join(a.StateDir, in.Environment, in.Service+".runs", in.ReleaseID), kind: kind}
}

// deployCommand runs Command unless an earlier attempt started it; the
// caller holds the deploy lock.
func (a *DeployActivities) deployCommand(ctx context.Context, in api.DeployInput, path string, lock *os.File) (string, error) {
	o := a.once(in, "deploy")
	st, err := o.state()
	if err != nil {
		return "", err
	}
	if st.fenced {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"release %s was rolled back; its deploy never runs again", in.ReleaseID), ErrTypeDeployFenced, nil)
	}
	if a.Command == "" {
		return "", nil
	}
	res := o.earlier(st)
	if !st.started {
		if res, err = o.run(ctx, lock, a.Command, a.env(in, path), a.Timeout); err != nil {
			return "", err
		}
	}
	return deployOutcome(in, st, res, a.Timeout)
}

// deployOutcome: only a clean exit deploys; anything else is final.
func deployOutcome(in api.DeployInput, st onceState, res onceResult, timeout time.Duration) (string, error) {
	switch {
	case res.rc == 0 && res.resumed:
		return res.output + fmt.Sprintf("resumed: the deploy command started at %s had already run; not run again\n",
			st.startedAt.Format(time.RFC3339)), nil
	case res.rc == 0:
		return res.output, nil
	case res.rc > 0:
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"deploy command failed: exit status %d\n%s", res.rc, res.output), ErrTypeCommandFailed, nil)
	}
	how := "was killed before it reported an outcome"
	if res.timedOut {
		how = fmt.Sprintf("timed out after %s and was killed", timeout)
	}
	return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"deploy command of release %s %s; not running it again (at most once per release): check the environment\n%s",
		in.ReleaseID, how, res.output), ErrTypeDeployInterrupted, nil)
}

// rollbackCommand runs RollbackCommand unless an earlier attempt ran it to
// success; a failed or interrupted rollback may run again (retryable).
func (a *DeployActivities) rollbackCommand(ctx context.Context, in api.DeployInput, prev *deployState) (string, error) {
	if a.RollbackCommand == "" {
		return "", nil
	}
	o := a.once(in, "rollback")
	lock, err := o.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if st, err := o.state(); err != nil || (st.exited && st.rc == 0) {
		return o.output() + "the rollback command had already run; not run again\n", err
	}
	res, err := o.run(ctx, lock, a.RollbackCommand, withPrevious(a.env(in, a.artifactCopy(in)), prev), a.Timeout)
	switch {
	case err != nil:
		return "", err
	case res.rc != 0:
		return "", temporal.NewApplicationError(fmt.Sprintf("rollback command failed (exit %d)\n%s", res.rc, res.output),
			ErrTypeCommandFailed)
	}
	return res.output, nil
}
