package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/audit"
)

// notifyOptions: people are told through the approval role. Its failures
// (Slack down, rate limits) are retried with backoff and never block a gate.
var notifyOptions = workflow.ActivityOptions{
	TaskQueue:           api.QueueApproval,
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2,
		MaximumInterval: time.Minute, MaximumAttempts: 20,
	},
}

func (r *release) notification(kind string, g *gate, detail string) api.Notification {
	n := api.Notification{
		Kind: kind, ReleaseID: r.id, Service: r.req.Service, Environment: r.req.Environment,
		Commit: r.commitSHA(), Link: r.req.Link, Authors: r.authors(), Requester: r.req.Requester,
		ArtifactDigest: r.artifact.Digest, PolicyHash: r.policyHash, Detail: detail, Outcome: r.status,
		Ended: r.result != nil, RunID: r.trust.run,
	}
	if r.emergency() { // the prompts flag it (activity input only: replay does not compare it)
		n.Emergency = r.promo.declared.Reason
	}
	if r.req.Promotes != nil {
		n.Promotes = r.req.Promotes.Release
	}
	if c := r.src.change; c != nil {
		n.CommitRef, n.Commits, n.CommitCount, n.Unmapped = r.req.Commit, r.commitLines(10), c.CommitCount, r.src.unmapped
	}
	if g != nil {
		n.Gate, n.Needed, n.Deadline = g.name, g.needed(), g.deadline
		n.GateState, n.Quorum = g.state, g.rule.Quorum
		n.Signed, n.SlackChannel, n.Ref = g.signerIDs(), g.rule.SlackChannel, g.promptRef
		n.Awaiting = append([]string{}, g.whoMaySign()...) // [] (not null) when nobody, as before
	}
	return n
}

// notify sends a notification without waiting for it. The last one sent is
// kept so that the release can wait for its outcome message before it ends.
func (r *release) notify(ctx workflow.Context, n api.Notification) workflow.Future {
	opts := notifyOptions
	opts.Summary = "notify " + n.Kind
	if n.Gate != "" {
		opts.Summary += " at gate " + n.Gate
	}
	actx := workflow.WithActivityOptions(ctx, opts)
	f := workflow.ExecuteActivity(actx, approvalRole.Notify, n)
	r.lastNotice = f
	return f
}

// notifyOutcome tells how a gate ended. When the release goes on past it
// (lean notices), the notice is sent from a coroutine that runs once the
// main one blocks: after the next stage's first command, so that the next
// approval prompt is not queued behind it.
func (r *release) notifyOutcome(ctx workflow.Context, g *gate, goesOn bool) {
	n := r.notification(api.NotifyOutcome, g, "gate "+g.state)
	if !goesOn || !r.leanNotices() {
		r.notify(ctx, n)
		return
	}
	workflow.Go(ctx, func(ctx workflow.Context) { r.notify(ctx, n) })
}

// prompt asks the gate's signers and remembers the message reference so that
// later updates edit the same message. The approve stage's executor is the
// approval worker that sent the approval prompt.
func (r *release) prompt(ctx workflow.Context, g *gate) {
	f := r.notify(ctx, r.notification(api.NotifyPrompt, g, ""))
	workflow.Go(ctx, func(ctx workflow.Context) {
		var res api.NotifyResult
		if err := f.Get(ctx, &res); err != nil {
			return // retries exhausted: decisions still arrive through the API
		}
		g.promptRef = res.Ref
		if r.trust.signed {
			// an unsigned answer: recorded, but it may not add executors
			// (a forged one could otherwise bar an eligible approver)
			r.recordPrompted(ctx, g, res.Executor)
			return
		}
		r.addExecutor(res.Executor)
		if g.name == "approval" {
			r.stageExecutor(ctx, api.StageApprove, res.Executor, nil, "approvers asked: "+g.needed())
		}
	})
}

// flushNotices waits (bounded) for the last notification, so the outcome
// message is sent before the workflow closes and cancels pending activities.
func (r *release) flushNotices(ctx workflow.Context) {
	if r.lastNotice == nil {
		return
	}
	_, _ = workflow.AwaitWithTimeout(ctx, 2*time.Minute, r.lastNotice.IsReady)
}

func (r *release) recordPrompted(ctx workflow.Context, g *gate, executor string) {
	if g.name == "approval" {
		r.record(ctx, audit.Entry{Type: audit.EventStageFinished, Stage: api.StageApprove,
			Executor: executor, Outcome: "ok", Detail: "approvers asked: " + g.needed()})
	}
}
