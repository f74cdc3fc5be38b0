package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/policy"
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

func (v view) notification(kind string, g *gate, detail string) api.Notification {
	r := v.r
	n := api.Notification{
		Kind: kind, ReleaseID: r.id, Service: r.req.Service, Environment: r.req.Environment,
		Commit: r.src.commitSHA(), Link: r.req.Link, Authors: r.src.authors(), Requester: r.req.Requester,
		ArtifactDigest: r.artifact.Digest, PolicyHash: r.pin.hash, Detail: detail, Outcome: r.progress.status,
		Ended: r.result != nil, RunID: r.pin.run, Promotes: promotes(r.req),
		Emergency: r.emergency.reason(), // the prompts flag it (activity input only: replay does not compare it)
	}
	if c := r.src.change; c != nil {
		n.CommitRef, n.Commits, n.CommitCount, n.Unmapped = r.src.ref, r.src.commitLines(&r.pin.policy, 10), c.CommitCount, r.src.unmapped
	}
	if g != nil {
		n.Gate, n.Needed, n.Deadline = g.name, g.needed(), g.deadline
		n.GateState, n.Quorum = g.state, g.rule.Quorum
		n.Signed, n.SlackChannel, n.Ref = g.signerIDs(), g.rule.SlackChannel, g.promptRef
		n.Awaiting = append([]string{}, g.whoMaySign()...) // [] (not null) when nobody, as before
		if kind != api.NotifyPrompt && r.version >= versionLeanNoticeInputs {
			return n.Lean() // the facts went with the gate's prompt
		}
	}
	return n
}

// notify sends a notification without waiting for it. Each is kept so that
// the release can wait for its messages before it ends.
func (h *handles) notify(ctx workflow.Context, n api.Notification) workflow.Future {
	opts := notifyOptions
	opts.Summary = "notify " + n.Kind
	if n.Gate != "" {
		opts.Summary += " at gate " + n.Gate
	}
	actx := workflow.WithActivityOptions(ctx, opts)
	f := workflow.ExecuteActivity(actx, approvalRole.Notify, n)
	h.notices = append(h.notices, f)
	return f
}

// notifyOutcome tells how a gate ended. When the release goes on past it,
// the notice is sent from a coroutine that runs once the main one blocks:
// after the next stage's first command, so that the next approval prompt is
// not queued behind it.
func (r *release) notifyOutcome(ctx workflow.Context, g *gate, goesOn bool) {
	n := view{r}.notification(api.NotifyOutcome, g, "gate "+g.state)
	if !goesOn {
		r.rt.notify(ctx, n)
		return
	}
	sent := r.rt.holdPublishing(ctx, r.version >= versionPublishAfterHandOff)
	workflow.Go(ctx, func(ctx workflow.Context) { sent(r.rt.notify(ctx, n)) })
}

// prompt asks the gate's signers and remembers the message reference so that
// later updates edit the same message. The approval prompt's answer names
// the approval worker that sent it: recorded, but it may not add executors
// (an unsigned answer: a forged one could otherwise bar an eligible approver).
func (r *release) prompt(ctx workflow.Context, g *gate) {
	f := r.rt.notify(ctx, view{r}.notification(api.NotifyPrompt, g, ""))
	workflow.Go(ctx, func(ctx workflow.Context) {
		var res api.NotifyResult
		if err := f.Get(ctx, &res); err != nil {
			return // retries exhausted: decisions still arrive through the API
		}
		g.promptRef = res.Ref
		if g.name == policy.GateApproval {
			r.record(ctx, audit.Entry{Type: audit.EventStageFinished, Stage: api.StageApprove,
				Executor: res.Executor, Outcome: "ok", Detail: "approvers asked: " + g.needed()})
		}
	})
}

// flushNotices waits (bounded) for the notifications in flight, so that
// they are sent before the workflow closes: a closed workflow's activity
// task that no worker took yet is dropped. From versionAllNoticesSent it
// waits for all of them (an approved gate's outcome notice, sent from a
// coroutine, could still be queued when the release ended); before, only
// for the last one.
func (h *handles) flushNotices(ctx workflow.Context, all bool) {
	if len(h.notices) == 0 {
		return
	}
	pending := h.notices[len(h.notices)-1:]
	if all {
		pending = h.notices
	}
	_, _ = workflow.AwaitWithTimeout(ctx, 2*time.Minute, func() bool { return allReady(pending) })
}

func allReady(fs []workflow.Future) bool {
	for _, f := range fs {
		if !f.IsReady() {
			return false
		}
	}
	return true
}
