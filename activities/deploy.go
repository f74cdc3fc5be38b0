package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/once"
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
	// PolicyFile is the deploy role's own copy of the policy: its keys and
	// rules judge every deploy, whatever the workflow says (deploycheck.go).
	PolicyFile string
	// Signer is the deploy role's key: it signs a receipt of every step.
	Signer *attest.Signer
	// Caller reads the run that called an activity (nil: from the server,
	// ServerCaller): deploys and rollbacks judge that run, not their input.
	Caller CallerReader

	policies policyCache
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
	// VerifiedAt is when Verify last passed for this release here (zero:
	// never): promotion rules count the soak time from it.
	VerifiedAt time.Time `json:"verified_at,omitzero"`
}

// Deploy deploys the approved artifact. It first checks, on its own, that
// the signed bundle proves the release was built, reviewed and approved
// under its own copy of the policy (checkAllowed), and runs nothing when it
// does not. It deploys its own copy of the artifact, which must hash to the
// approved digest. Its command runs at most once per release, whatever
// happens to the workers (see package once): a retry, a duplicated task or a worker
// restarted after a crash either finds the release recorded, or waits for
// the command still running and takes its outcome, or — the command killed
// midway, outcome unknown — fails without running it again.
func (a *DeployActivities) Deploy(ctx context.Context, in api.DeployInput) (api.StepResult, error) {
	if err := a.checkStep(in); err != nil {
		return api.StepResult{}, err
	}
	if err := a.checkAllowed(ctx, in); err != nil {
		return api.StepResult{}, err
	}
	res, err := a.deploy(ctx, in)
	if err != nil {
		return api.StepResult{}, err
	}
	return a.receipt(ctx, in, attest.StepDeploy, res)
}

func (a *DeployActivities) deploy(ctx context.Context, in api.DeployInput) (api.StepResult, error) {
	lock, err := a.step(in, "deploy").Acquire(ctx)
	if err != nil {
		return api.StepResult{}, err
	}
	defer lock.Close()
	cur, err := readState(a.statePath(in))
	if err != nil {
		return api.StepResult{}, err
	}
	if cur != nil && cur.ReleaseID == in.ReleaseID {
		return a.ok(fmt.Sprintf("release %s is already deployed to %s/%s; nothing to do", in.ReleaseID, in.Environment, in.Service)), nil
	}
	path, err := a.stageArtifact(in)
	if err != nil {
		return api.StepResult{}, err
	}
	out, err := a.deployCommand(ctx, in, path, lock)
	if err != nil {
		return api.StepResult{}, err
	}
	if err := a.record(in, path, cur); err != nil {
		return api.StepResult{}, err
	}
	// The receipt binds the release and the whole digest: the line names
	// the artifact for people, and is stored twice in the history.
	return a.ok(out + fmt.Sprintf("deployed sha256:%.12s to %s/%s", in.Digest, in.Environment, in.Service)), nil
}

// checkStep checks the input and that the role can sign its receipt.
func (a *DeployActivities) checkStep(in api.DeployInput) error {
	if err := checkDeployInput(in); err != nil {
		return err
	}
	return requireSigner(a.Signer, attest.RoleDeploy)
}

// Verify checks that the record holds this release and that the deploy
// role's copy of its artifact still hashes to the approved digest, then runs
// VerifyCommand if any. Only the release itself may ask: a pass starts the
// soak time later promotions count, and a failure's receipt is a reason to
// roll back.
func (a *DeployActivities) Verify(ctx context.Context, in api.DeployInput) (api.StepResult, error) {
	if err := a.checkStep(in); err != nil {
		return api.StepResult{}, err
	}
	if _, _, err := a.calledBy(ctx, in); err != nil {
		return api.StepResult{}, deployAnswer("verify", err)
	}
	res, err := a.verify(ctx, in)
	if err != nil {
		return api.StepResult{}, err
	}
	return a.receipt(ctx, in, attest.StepVerify, res)
}

func (a *DeployActivities) verify(ctx context.Context, in api.DeployInput) (api.StepResult, error) {
	path, problem, err := a.checkState(in)
	if err != nil {
		return api.StepResult{}, err
	}
	if problem != "" {
		return api.StepResult{OK: false, Output: problem, Executor: a.Identity}, nil
	}
	out := fmt.Sprintf("the release holds in %s/%s", in.Environment, in.Service)
	if a.VerifyCommand != "" {
		out, err = runShell(ctx, a.VerifyCommand, a.env(in, path), a.Timeout)
	}
	var ce *commandError
	if errors.As(err, &ce) {
		return api.StepResult{OK: false, Output: "verify " + ce.msg + "\n" + ce.output, Executor: a.Identity}, nil
	}
	if err != nil {
		return api.StepResult{}, err
	}
	if err := a.markVerified(in); err != nil {
		return api.StepResult{}, err
	}
	return a.ok(out), nil
}

// Rollback undoes this release's deploy: it waits for a deploy of this
// release still running, fences it (it never runs after its rollback), runs
// RollbackCommand unless an earlier attempt ran it to success, then puts back
// the record this release's deploy saved (or removes the record when there
// was none). Only a release this role deployed, or started deploying, is
// rolled back: a record not holding this release is left alone and no
// command runs, so repeated rollbacks, rollbacks after a later release and
// rollbacks of releases it never deployed (a rogue caller's) change nothing.
func (a *DeployActivities) Rollback(ctx context.Context, in api.DeployInput) (api.StepResult, error) {
	if err := a.checkStep(in); err != nil {
		return api.StepResult{}, err
	}
	if err := a.mayRollback(ctx, in); err != nil {
		return api.StepResult{}, deployAnswer("rollback", err)
	}
	res, err := a.rollback(ctx, in)
	if err != nil {
		return api.StepResult{}, err
	}
	return a.receipt(ctx, in, attest.StepRollback, res)
}

func (a *DeployActivities) rollback(ctx context.Context, in api.DeployInput) (api.StepResult, error) {
	deploy := a.step(in, "deploy")
	lock, err := deploy.Acquire(ctx)
	if err != nil {
		return api.StepResult{}, err
	}
	defer lock.Close()
	if err := deploy.Fence("fenced by rollback"); err != nil {
		return api.StepResult{}, err
	}
	cur, prev, err := a.ownStates(in)
	if err != nil {
		return api.StepResult{}, err
	}
	out, err := a.rollbackIfDeployed(ctx, in, deploy, cur, prev)
	if err != nil {
		return api.StepResult{}, err
	}
	msg, err := a.restore(in, cur, prev)
	if err != nil {
		return api.StepResult{}, err
	}
	return a.ok(out + msg), nil
}

// rollbackIfDeployed runs the rollback command only when this role recorded
// the release or started its deploy command (which it does only after
// checking the bundle): otherwise there is nothing of this release to undo,
// and running it would undo another release.
func (a *DeployActivities) rollbackIfDeployed(ctx context.Context, in api.DeployInput, deploy once.Step, cur, prev *deployState) (string, error) {
	st, err := deploy.State()
	if err != nil {
		return "", err
	}
	if cur == nil && !st.Started {
		if a.RollbackCommand == "" {
			return "", nil
		}
		return fmt.Sprintf("this role never deployed release %s; the rollback command did not run\n", in.ReleaseID), nil
	}
	return a.rollbackCommand(ctx, in, prev)
}

// receipt signs the deploy role's account of a step it ran, naming the
// run the server says asked for it.
func (a *DeployActivities) receipt(ctx context.Context, in api.DeployInput, step string, res api.StepResult) (api.StepResult, error) {
	r := attest.Receipt{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
		Step: step, Service: in.Service, Environment: in.Environment, Commit: in.Commit,
		OK: res.OK, Output: clip(res.Output), Deployer: a.Identity, At: time.Now().UTC()}
	if activity.IsActivity(ctx) {
		r.RunID = activity.GetInfo(ctx).WorkflowExecution.RunID
	}
	env, err := sign(a.Signer, attest.ArtifactSubject(in.Digest), attest.PredicateDeploy, r)
	if err != nil {
		return api.StepResult{}, err
	}
	res.Receipt = env
	return res, nil
}
