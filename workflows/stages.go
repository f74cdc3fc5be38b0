package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/activities"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
)

// stageOptions: each duty runs on its own role's queue. Build and review are
// retried; deploy runs its command at most once per release (a retry resumes
// it), heartbeats, and waits for its cancellation so that rollback never
// races a running deploy. Commands heartbeat every 5s: a worker killed
// mid-stage is noticed, and its stage retried elsewhere, within 20s.
func stageOptions(queue string) workflow.ActivityOptions {
	o := workflow.ActivityOptions{
		TaskQueue:           queue,
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second, MaximumAttempts: 5,
		},
	}
	if queue == QueueDeploy {
		o.WaitForCancellation = true
		o.RetryPolicy.MaximumAttempts = 3
	}
	return o
}

// run executes one activity of a stage in a context that a cancel stops.
func (r *release) run(ctx workflow.Context, queue, activity string, in, out any) error {
	opts := stageOptions(queue)
	opts.Summary = r.summary(activity)
	sctx, stop := workflow.WithCancel(workflow.WithActivityOptions(ctx, opts))
	r.stopStage = stop
	defer func() { r.stopStage = nil }()
	return workflow.ExecuteActivity(sctx, activity, in).Get(sctx, out)
}

// stageExecutor records a finished stage with the worker that ran it and
// the signed statement it rests on (nil when there is none).
func (r *release) stageExecutor(ctx workflow.Context, stage, executor string, env attest.Envelope, detail string) {
	r.addExecutor(executor)
	r.record(ctx, audit.Entry{Type: audit.EventStageFinished, Stage: stage,
		Executor: executor, Outcome: "ok", Detail: detail, Envelope: json.RawMessage(env)})
}

// stageFailed records a failed stage with the identity of the worker that
// reported the failure, when there is one.
func (r *release) stageFailed(ctx workflow.Context, stage string, err error) {
	var actErr *temporal.ActivityError
	executor := ""
	if errors.As(err, &actErr) {
		executor = actErr.Identity()
	}
	r.record(ctx, audit.Entry{Type: audit.EventStageFailed, Stage: stage,
		Executor: executor, Outcome: "failed", Detail: rootMessage(err)})
}

func (r *release) startStage(ctx workflow.Context, stage, status, detail string) {
	r.setStage(ctx, stage, status)
	r.record(ctx, audit.Entry{Type: audit.EventStageStarted, Stage: stage, Detail: detail})
}

func (r *release) loadPolicy(ctx workflow.Context) error {
	var snap activities.PolicySnapshot
	opts := workflow.ActivityOptions{TaskQueue: QueueOrchestrator, StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3}, Summary: "load and pin the policy"}
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts),
		activities.ActivityLoadPolicy).Get(ctx, &snap)
	if err != nil {
		return err
	}
	if !r.trust.signed {
		r.pol, r.policyHash = sharedPolicy(snap.Hash, *snap.Policy), snap.Hash
		return nil
	}
	pp, hash, err := pinContent(snap)
	if err != nil {
		return err
	}
	r.pol, r.policyHash, r.trust.keys, r.trust.ready = pp.pol, hash, pp.keys, true
	return nil
}

func (r *release) build(ctx workflow.Context) error {
	detail := "building commit " + r.req.Commit
	if r.src.listed {
		detail = fmt.Sprintf("building %s of %s from %s", r.req.Commit, r.req.Service, r.src.repo)
	}
	r.startStage(ctx, StageCode, StatusBuilding, detail)
	in := activities.BuildInput{ReleaseID: r.id, Service: r.req.Service,
		Environment: r.req.Environment, Commit: r.req.Commit}
	if r.trust.signed {
		in.PolicyHash, in.Authors, in.Requester = r.policyHash, r.req.Authors, r.req.Requester
	}
	var err error
	if r.src.enabled {
		in.Git = true
		if r.src.listed {
			in.Deployed, err = r.askDeployed(ctx)
		}
	}
	var res activities.BuildResult
	if err == nil {
		err = r.run(ctx, QueueBuild, activities.ActivityBuild, in, &res)
	}
	if err == nil && r.trust.signed {
		if res, err = r.verifyBuild(res); err != nil {
			err = errors.New("build result refused (fail closed): " + err.Error())
		}
	}
	if err != nil {
		r.stageFailed(ctx, StageCode, err)
		return err
	}
	r.artifact, r.trust.provenance = res, res.Provenance
	r.stageExecutor(ctx, StageCode, r.artifact.Executor, res.Provenance,
		fmt.Sprintf("artifact %s sha256:%s", r.artifact.ArtifactRef, r.artifact.Digest)+r.describeChange())
	return nil
}

// review runs the automated checks; findings end the release rejected.
func (r *release) review(ctx workflow.Context) (passed bool, err error) {
	r.startStage(ctx, StageReview, StatusReviewing, "automated review checks")
	in := activities.ReviewInput{ReleaseID: r.id, Service: r.req.Service, Commit: r.commitSHA(),
		ArtifactRef: r.artifact.ArtifactRef, Digest: r.artifact.Digest}
	if r.trust.signed {
		in.PolicyHash = r.policyHash
	}
	var res activities.ReviewResult
	err = r.run(ctx, QueueReview, activities.ActivityReview, in, &res)
	if err == nil && r.trust.signed {
		if res, err = r.verifyReview(res); err != nil {
			err = errors.New("review result refused (fail closed): " + err.Error())
		}
	}
	if err != nil {
		r.stageFailed(ctx, StageReview, err)
		return false, err
	}
	r.trust.review = res.Attestation
	detail := "automated checks passed"
	if !res.Passed {
		detail = "automated checks failed: " + strings.Join(res.Findings, "; ")
	}
	r.stageExecutor(ctx, StageReview, res.Executor, res.Attestation, detail)
	return res.Passed, nil
}

func (r *release) deployInput() activities.DeployInput {
	in := activities.DeployInput{ReleaseID: r.id, Service: r.req.Service,
		Environment: r.req.Environment, Commit: r.commitSHA(),
		ArtifactRef: r.artifact.ArtifactRef, Digest: r.artifact.Digest}
	if r.trust.signed {
		in.PolicyHash = r.policyHash
		in.Bundle = &activities.Bundle{Provenance: r.trust.provenance, Review: r.trust.review,
			Decisions: r.trust.decisions}
		if r.emergency() {
			in.Bundle.Emergency = r.req.Emergency
		}
		if r.req.Promotes != nil {
			in.Promotes = r.req.Promotes.Release
		}
	}
	return in
}

// stepNames maps the deploy role's activities to their receipts' steps.
var stepNames = map[string]string{activities.ActivityDeploy: attest.StepDeploy,
	activities.ActivityVerify: attest.StepVerify, activities.ActivityRollback: attest.StepRollback}

// trustStep replaces a deploy-role result by what its signed receipt says.
func (r *release) trustStep(activity string, res activities.StepResult, err error) (activities.StepResult, error) {
	if err != nil || !r.trust.signed {
		return res, err
	}
	v, verr := r.verifyReceipt(res, stepNames[activity])
	if verr != nil {
		return v, errors.New(activity + " result refused (fail closed): " + verr.Error())
	}
	return v, nil
}

// step runs deploy or verify and records it under the deploy stage.
func (r *release) step(ctx workflow.Context, activity, event string) (activities.StepResult, error) {
	var res activities.StepResult
	err := r.run(ctx, QueueDeploy, activity, r.deployInput(), &res)
	res, err = r.trustStep(activity, res, err)
	e := audit.Entry{Type: event, Stage: StageDeploy, Executor: res.Executor, Outcome: "ok", Detail: res.Output,
		Envelope: json.RawMessage(res.Receipt)}
	switch {
	case err != nil:
		r.stageFailed(ctx, StageDeploy, err)
		return res, err
	case !res.OK:
		e.Outcome = "failed"
	}
	r.addExecutor(res.Executor)
	r.record(ctx, e)
	return res, nil
}

// rollback runs even when the release was cancelled: it uses a context that
// the cancel does not reach.
func (r *release) rollback(ctx workflow.Context, why string) error {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	opts := stageOptions(QueueDeploy)
	opts.RetryPolicy.MaximumAttempts = 10
	opts.Summary = r.summary(activities.ActivityRollback)
	var res activities.StepResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(dctx, opts),
		activities.ActivityRollback, r.deployInput()).Get(dctx, &res)
	res, err = r.trustStep(activities.ActivityRollback, res, err)
	e := audit.Entry{Type: audit.EventRollback, Stage: StageDeploy, Executor: res.Executor,
		Outcome: "ok", Detail: why + "; " + res.Output, Envelope: json.RawMessage(res.Receipt)}
	if err != nil || !res.OK {
		e.Outcome, e.Detail, e.Envelope = "failed", why+"; rollback failed: "+rootMessage(err)+res.Output, nil
	}
	r.record(dctx, e)
	if err == nil && !res.OK {
		err = errors.New("rollback reported failure")
	}
	return err
}

// summary is the one line the UI shows for a stage's activity.
func (r *release) summary(activity string) string {
	what := fmt.Sprintf("%s %s", r.req.Service, shortCommit(r.commitSHA()))
	switch activity {
	case activities.ActivityBuild:
		return "code: build " + what
	case activities.ActivityReview:
		return "review: automated checks of " + what
	case activities.ActivityDeploy:
		return fmt.Sprintf("deploy: %s to %s", what, r.req.Environment)
	case activities.ActivityVerify:
		return fmt.Sprintf("deploy: verify %s in %s", what, r.req.Environment)
	case activities.ActivityRollback:
		return fmt.Sprintf("deploy: roll back %s in %s", r.req.Service, r.req.Environment)
	}
	return activity
}

func rootMessage(err error) string {
	if err == nil {
		return ""
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
