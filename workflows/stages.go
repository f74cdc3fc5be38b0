package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/policy"
)

// StageHeartbeatTimeout: a stage whose worker sent no heartbeat for this
// long is retried elsewhere (the roles send them often enough, worker's
// heartbeatThrottle).
const StageHeartbeatTimeout = 20 * time.Second

// stageOptions: each duty runs on its own role's queue. Build and review are
// retried; deploy runs its command at most once per release (a retry resumes
// it), heartbeats, and waits for its cancellation so that rollback never
// races a running deploy. Commands heartbeat every 5s: a worker killed
// mid-stage is noticed, and its stage retried elsewhere, within 20s.
func stageOptions(queue string) workflow.ActivityOptions {
	o := workflow.ActivityOptions{
		TaskQueue:           queue,
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    StageHeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second, MaximumAttempts: 5,
		},
	}
	if queue == api.QueueDeploy {
		o.WaitForCancellation = true
		o.RetryPolicy.MaximumAttempts = 3
	}
	return o
}

// deployAttempts: the attempts of a deploy or verify from
// versionDeployOutlivesLostWorkers. Only an attempt lost without a verdict
// (its worker killed, the role's history read unavailable) is retried; with
// backoff capped at 30 s and a 20 s heartbeat timeout, ten lost attempts in a
// row take about six minutes.
const deployAttempts = 10

// deployStepOptions are a deploy or verify's options for this release's
// version.
func (r *release) deployStepOptions() workflow.ActivityOptions {
	o := stageOptions(api.QueueDeploy)
	if r.version >= versionDeployOutlivesLostWorkers {
		o.RetryPolicy.MaximumAttempts = deployAttempts
	}
	return o
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
	var snap policy.Snapshot
	opts := workflow.ActivityOptions{TaskQueue: api.QueueOrchestrator, StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3}, Summary: "load and pin the policy"}
	actx := workflow.WithActivityOptions(ctx, opts)
	var err error
	switch {
	case r.version < versionLeanHistory:
		// by name: these releases scheduled it without an input
		err = workflow.ExecuteActivity(actx, api.ActivityLoadPolicy).Get(ctx, &snap)
	case r.version < versionPolicyBytes:
		err = workflow.ExecuteActivity(actx, api.ActivityLoadPolicy, api.LoadPolicyInput{Gzip: true}).Get(ctx, &snap)
	default:
		snap, err = loadPolicyBytes(ctx, actx, r.version >= versionPolicyDictionary)
	}
	if err != nil {
		return err
	}
	return r.pin.take(snap)
}

// loadPolicyBytes asks for the compressed file alone (versionPolicyBytes),
// with the preset dictionary when dict (versionPolicyDictionary). An
// orchestrator not yet upgraded answers gzip, or a snapshot, which is taken
// as before: either way the pin hashes and parses what was decompressed.
func loadPolicyBytes(ctx, actx workflow.Context, dict bool) (policy.Snapshot, error) {
	in := api.LoadPolicyInput{Gzip: true, Bytes: true}
	if dict {
		in.Dict = policy.DictionarySampleV1
	}
	var raw converter.RawValue
	if err := workflow.ExecuteActivity(actx, api.ActivityLoadPolicy, in).Get(ctx, &raw); err != nil {
		return policy.Snapshot{}, err
	}
	p := raw.Payload()
	if string(p.GetMetadata()[converter.MetadataEncoding]) == converter.MetadataEncodingBinary {
		return policy.Snapshot{Compressed: p.GetData(), Path: pinnedPolicyPath}, nil
	}
	var snap policy.Snapshot
	if err := converter.GetDefaultDataConverter().FromPayload(p, &snap); err != nil {
		return snap, fmt.Errorf("LoadPolicy answered neither the policy's bytes nor a snapshot: %w", err)
	}
	return snap, nil
}

// pinnedPolicyPath names the pinned policy in errors when LoadPolicy
// answered its bytes alone.
const pinnedPolicyPath = "the pinned policy"

func (r *release) build(ctx workflow.Context) error {
	q := r.req
	detail := "building commit " + q.Commit
	if r.src.listed {
		detail = fmt.Sprintf("building %s of %s from %s", q.Commit, q.Service, r.src.repo)
	}
	r.startStage(ctx, api.StageCode, api.StatusBuilding, detail)
	in := api.BuildInput{ReleaseID: r.id, Service: q.Service, Environment: q.Environment, Commit: q.Commit,
		PolicyHash: r.pin.hash, Authors: q.Authors, Requester: q.Requester, Git: true}
	var err error
	if r.src.listed {
		in.Deployed, err = r.askDeployed(ctx)
	}
	var res api.BuildResult
	if err == nil {
		res, err = runStage(ctx, r.rt, api.QueueBuild, "code: build "+view{r}.what(), buildRole.Build, in)
	}
	if err == nil {
		if res, err = r.pin.verifyBuild(res, view{r}.judged(), &r.src); err != nil {
			err = errors.New("build result refused (fail closed): " + err.Error())
		}
	}
	if err != nil {
		r.stageFailed(ctx, api.StageCode, err)
		return err
	}
	r.artifact = res
	r.stageExecutor(ctx, api.StageCode, res.Executor, res.Provenance,
		fmt.Sprintf("artifact %s sha256:%s", res.ArtifactRef, res.Digest)+r.src.describe(&r.pin.policy, q.Environment))
	return nil
}

// review runs the automated checks; findings end the release rejected.
func (r *release) review(ctx workflow.Context) (passed bool, err error) {
	r.startStage(ctx, api.StageReview, api.StatusReviewing, "automated review checks")
	in := api.ReviewInput{ReleaseID: r.id, Service: r.req.Service, Commit: r.src.commitSHA(),
		ArtifactRef: r.artifact.ArtifactRef, Digest: r.artifact.Digest, PolicyHash: r.pin.hash}
	res, err := runStage(ctx, r.rt, api.QueueReview, "review: automated checks of "+view{r}.what(), reviewRole.Review, in)
	if err == nil {
		if res, err = r.pin.verifyReview(res, view{r}.judged()); err != nil {
			err = errors.New("review result refused (fail closed): " + err.Error())
		}
	}
	if err != nil {
		r.stageFailed(ctx, api.StageReview, err)
		return false, err
	}
	r.evidence.review = res.Attestation
	detail := "automated checks passed"
	if !res.Passed {
		detail = "automated checks failed: " + strings.Join(res.Findings, "; ")
	}
	r.stageExecutor(ctx, api.StageReview, res.Executor, res.Attestation, detail)
	return res.Passed, nil
}

// deployInput is what the deploy role is handed: the release. Before
// versionLeanHistory it also carried every signed fact of the release (the
// bundle); since, the deploy role reads them from this run's own history,
// where the Build and Review results and the decide Updates already hold
// them, so that no signed fact travels twice.
func (r *release) deployInput() api.DeployInput {
	in := api.DeployInput{ReleaseID: r.id, Service: r.req.Service,
		Environment: r.req.Environment, Commit: r.src.commitSHA(),
		ArtifactRef: r.artifact.ArtifactRef, Digest: r.artifact.Digest,
		PolicyHash: r.pin.hash, Promotes: promotes(r.req), RunID: r.pin.run}
	if r.version < versionLeanHistory {
		in.Bundle = &api.Bundle{Provenance: r.artifact.Provenance, Review: r.evidence.review,
			Decisions: r.evidence.decisions}
		if r.emergency.on() {
			in.Bundle.Emergency = r.req.Emergency
		}
	}
	return in
}

// deployStep is one of the deploy role's steps, each with a signed receipt.
type deployStep struct {
	name     string // as refusals name it
	activity func(context.Context, api.DeployInput) (api.StepResult, error)
	receipt  string // the step its receipt names (attest.Step*)
	event    string // its audit event
}

var (
	stepDeploy   = deployStep{api.ActivityDeploy, deployRole.Deploy, attest.StepDeploy, audit.EventDeploy}
	stepVerify   = deployStep{api.ActivityVerify, deployRole.Verify, attest.StepVerify, audit.EventVerify}
	stepRollback = deployStep{api.ActivityRollback, deployRole.Rollback, attest.StepRollback, audit.EventRollback}
)

// trustStep replaces a deploy-role result by what its signed receipt says.
func (r *release) trustStep(s deployStep, res api.StepResult, err error) (api.StepResult, error) {
	if err != nil {
		return res, err
	}
	v, verr := r.pin.verifyReceipt(res, view{r}.judged(), s.receipt)
	if verr != nil {
		return v, errors.New(s.name + " result refused (fail closed): " + verr.Error())
	}
	return v, nil
}

// step runs deploy or verify and records it under the deploy stage.
func (r *release) step(ctx workflow.Context, s deployStep, summary string) (api.StepResult, error) {
	res, err := runStageWith(ctx, r.rt, r.deployStepOptions(), summary, s.activity, r.deployInput())
	res, err = r.trustStep(s, res, err)
	e := audit.Entry{Type: s.event, Stage: api.StageDeploy, Executor: res.Executor, Outcome: "ok", Detail: res.Output,
		Envelope: json.RawMessage(res.Receipt)}
	switch {
	case err != nil:
		r.stageFailed(ctx, api.StageDeploy, err)
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
// failedVerify is the deploy role's receipt of the failed verify that is
// the reason for it, if that is the reason.
func (r *release) rollback(ctx workflow.Context, why string, failedVerify attest.Envelope) error {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	opts := stageOptions(api.QueueDeploy)
	opts.RetryPolicy.MaximumAttempts = 10
	opts.Summary = fmt.Sprintf("deploy: roll back %s in %s", r.req.Service, r.req.Environment)
	in := r.deployInput()
	in.FailedVerify = failedVerify
	res, err := call(workflow.WithActivityOptions(dctx, opts), stepRollback.activity, in)
	res, err = r.trustStep(stepRollback, res, err)
	e := audit.Entry{Type: audit.EventRollback, Stage: api.StageDeploy, Executor: res.Executor,
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

// what names the release's service and commit in the UI's activity lines.
func (v view) what() string {
	r := v.r
	return fmt.Sprintf("%s %s", r.req.Service, shortCommit(r.src.commitSHA()))
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
