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
// the approved digest. Deploying a release that is already the current one
// does nothing, so retries are safe.
func (a *DeployActivities) Deploy(ctx context.Context, in DeployInput) (StepResult, error) {
	if err := checkDeployInput(in); err != nil {
		return StepResult{}, err
	}
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
	var out string
	if a.Command != "" {
		if out, err = runShell(ctx, a.Command, a.env(in, path), a.Timeout); err != nil {
			return StepResult{}, commandFailure("deploy", err, false)
		}
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

// Rollback undoes this release's deploy: it runs RollbackCommand, then puts
// back the record this release's deploy saved (or removes the record when
// there was none). A record not holding this release is left alone, so
// repeated rollbacks and rollbacks after a later release do nothing.
func (a *DeployActivities) Rollback(ctx context.Context, in DeployInput) (StepResult, error) {
	if err := checkDeployInput(in); err != nil {
		return StepResult{}, err
	}
	cur, prev, err := a.ownStates(in)
	if err != nil {
		return StepResult{}, err
	}
	var out string
	if a.RollbackCommand != "" {
		path, _ := resolveArtifact(a.ArtifactDir, in.ArtifactRef)
		if out, err = runShell(ctx, a.RollbackCommand, withPrevious(a.env(in, path), prev), a.Timeout); err != nil {
			return StepResult{}, commandFailure("rollback", err, true)
		}
	}
	msg, err := a.restore(in, cur, prev)
	if err != nil {
		return StepResult{}, err
	}
	return a.ok(out + msg), nil
}
