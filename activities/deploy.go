package activities

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DeployActivities are the deploy role's activities. Whatever the commands
// do, the role records what it deployed in StateDir/<environment>/<service>.json
// (the previous record kept as .prev), which Verify and Rollback rely on.
type DeployActivities struct {
	Identity        string
	ArtifactDir     string
	StateDir        string
	Command         string // optional; run after the digest check, before the record
	VerifyCommand   string // optional; non-zero exit = verification failed
	RollbackCommand string // optional; run before the record is restored
	Timeout         time.Duration
	// Credentials is the deploy role's own secret, passed to commands as
	// FOUREYES_DEPLOY_CREDENTIALS when set.
	Credentials string
}

// deployState is the record of what is deployed to one service in one environment.
type deployState struct {
	ReleaseID         string    `json:"release_id"`
	Service           string    `json:"service"`
	Environment       string    `json:"environment"`
	Commit            string    `json:"commit"`
	Digest            string    `json:"digest"`
	ArtifactRef       string    `json:"artifact_ref"`
	DeployedBy        string    `json:"deployed_by"`
	DeployedAt        time.Time `json:"deployed_at"`
	PreviousReleaseID string    `json:"previous_release_id,omitempty"` // release saved as .prev by this deploy
}

// Deploy deploys the approved artifact, refusing any file whose SHA-256 is not
// the approved digest. Its command runs at most once per release, whatever
// happens to the workers (see once): a retry, a duplicated task or a worker
// restarted after a crash either finds the release recorded, or waits for the
// command still running and takes its outcome, or — the command killed
// midway, outcome unknown — fails without running it again.
func (a *DeployActivities) Deploy(ctx context.Context, in DeployInput) (StepResult, error) {
	if err := checkDeployInput(in); err != nil {
		return StepResult{}, err
	}
	lock, err := a.once(in, "deploy").acquire(ctx)
	if err != nil {
		return StepResult{}, err
	}
	defer lock.Close()
	cur, err := readState(a.statePath(in))
	if err != nil {
		return StepResult{}, err
	}
	if cur != nil && cur.ReleaseID == in.ReleaseID {
		return a.ok(fmt.Sprintf("release %s is already deployed to %s/%s; nothing to do", in.ReleaseID, in.Environment, in.Service)), nil
	}
	path, err := a.approvedArtifact(in)
	if err != nil {
		return StepResult{}, err
	}
	out, err := a.deployCommand(ctx, in, path, lock)
	if err != nil {
		return StepResult{}, err
	}
	if err := a.record(in, path, cur); err != nil {
		return StepResult{}, err
	}
	return a.ok(out + fmt.Sprintf("deployed release %s (%s) to %s/%s", in.ReleaseID, in.Digest, in.Environment, in.Service)), nil
}

// Verify checks that the record holds this release and that its artifact
// still hashes to the approved digest, then runs VerifyCommand if any.
func (a *DeployActivities) Verify(ctx context.Context, in DeployInput) (StepResult, error) {
	if err := checkDeployInput(in); err != nil {
		return StepResult{}, err
	}
	path, problem, err := a.checkState(in)
	if err != nil {
		return StepResult{}, err
	}
	if problem != "" {
		return StepResult{OK: false, Output: problem, Executor: a.Identity}, nil
	}
	if a.VerifyCommand == "" {
		return a.ok(fmt.Sprintf("release %s holds in %s/%s", in.ReleaseID, in.Environment, in.Service)), nil
	}
	out, err := runShell(ctx, a.VerifyCommand, a.env(in, path), a.Timeout)
	var ce *commandError
	if errors.As(err, &ce) {
		return StepResult{OK: false, Output: "verify " + ce.msg + "\n" + ce.output, Executor: a.Identity}, nil
	}
	if err != nil {
		return StepResult{}, err
	}
	return a.ok(out), nil
}

// Rollback undoes this release's deploy: it waits for a deploy of this
// release still running, fences it (it never runs after its rollback), runs
// RollbackCommand unless an earlier attempt ran it to success, then puts back
// the record this release's deploy saved (or removes the record when there
// was none). A record not holding this release is left alone, so repeated
// rollbacks and rollbacks after a later release do nothing.
func (a *DeployActivities) Rollback(ctx context.Context, in DeployInput) (StepResult, error) {
	if err := checkDeployInput(in); err != nil {
		return StepResult{}, err
	}
	deploy := a.once(in, "deploy")
	lock, err := deploy.acquire(ctx)
	if err != nil {
		return StepResult{}, err
	}
	defer lock.Close()
	if err := deploy.fence(); err != nil {
		return StepResult{}, err
	}
	cur, prev, err := a.ownStates(in)
	if err != nil {
		return StepResult{}, err
	}
	out, err := a.rollbackCommand(ctx, in, prev)
	if err != nil {
		return StepResult{}, err
	}
	msg, err := a.restore(in, cur, prev)
	if err != nil {
		return StepResult{}, err
	}
	return a.ok(out + msg), nil
}
