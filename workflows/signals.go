package workflows

import (
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/policy"
)

// listen handles decisions and cancels for the rest of the release, in one
// coroutine, so that every signal is judged in arrival order whatever stage
// the release is in.
func (r *release) listen(ctx workflow.Context) {
	decisions := workflow.GetSignalChannel(ctx, api.SignalDecision)
	cancels := workflow.GetSignalChannel(ctx, api.SignalCancel)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for ctx.Err() == nil {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(decisions, func(c workflow.ReceiveChannel, _ bool) {
				var d api.Decision
				c.Receive(ctx, &d)
				r.onDecision(ctx, d)
			})
			sel.AddReceive(cancels, func(c workflow.ReceiveChannel, _ bool) {
				var req api.CancelRequest
				c.Receive(ctx, &req)
				r.onCancel(ctx, req)
			})
			sel.Select(ctx)
		}
	})
}

// onCancel handles a cancel signal. A signal carries no signature:
// releases with signed attestations refuse it (and record the refusal).
func (r *release) onCancel(ctx workflow.Context, c api.CancelRequest) {
	if r.trust.signed {
		r.refuseUnverified(ctx, "cancel", c.RequestID, fmt.Errorf("a cancel signal carries no signature (claimed identity %q); cancel through the gateway", c.Identity))
		return
	}
	r.applyCancel(ctx, c, nil)
}

// judgeCancel says whether c may cancel the release: only the requester or
// a release manager, once, before the release ends.
func (r *release) judgeCancel(c api.CancelRequest) policy.Verdict {
	switch {
	case r.result != nil:
		return policy.Verdict{Rule: api.RuleReleaseEnded, Reason: "release has already ended " + r.result.Status}
	case r.cancelled():
		return policy.Verdict{Rule: api.RuleAlreadyCancelling, Reason: "release is already being cancelled by " + r.cancel.Identity}
	}
	return r.judging().MayCancel(r.req.Requester, c.Identity)
}

// applyCancel accepts a cancel from the requester or a release manager (it
// stops the running stage; during deploy the release then rolls back) and
// returns the verdict, with why it refused one otherwise.
func (r *release) applyCancel(ctx workflow.Context, c api.CancelRequest, env attest.Envelope) policy.Verdict {
	if v := r.judgeCancel(c); !v.Allowed {
		if !r.trust.signed || r.countRefusal(ctx, c.Identity) {
			r.record(ctx, audit.Entry{Type: audit.EventCancelRefused, Stage: r.stage, Actor: c.Identity,
				Channel: c.Channel, Outcome: api.OutcomeRefused, Rule: r.auditRule(v.Rule), Detail: v.Reason,
				Envelope: json.RawMessage(env)})
			r.capNotice(ctx, c.Identity)
		}
		return v
	}
	r.cancel = &c
	r.record(ctx, audit.Entry{Type: audit.EventCancelRequested, Stage: r.stage, Actor: c.Identity,
		Channel: c.Channel, Outcome: api.OutcomeAccepted, Detail: c.Reason, Envelope: json.RawMessage(env)})
	if r.stopStage != nil {
		r.stopStage()
	}
	return policy.Verdict{Allowed: true}
}
