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
				r.onDecisionSignal(ctx, r.refusals.nameSignal(d))
			})
			sel.AddReceive(cancels, func(c workflow.ReceiveChannel, _ bool) {
				var req api.CancelRequest
				c.Receive(ctx, &req)
				r.onCancelSignal(ctx, req)
			})
			sel.Select(ctx)
		}
	})
}

// onDecisionSignal refuses (and records) a decision signal: a signal
// carries no signature.
func (r *release) onDecisionSignal(ctx workflow.Context, d api.Decision) {
	r.refuseUnverified(ctx, "decision", d.RequestID, fmt.Errorf("a decision signal carries no signature (claimed identity %q); decide through the gateway", d.Identity))
}

// onCancelSignal refuses (and records) a cancel signal: a signal carries
// no signature.
func (r *release) onCancelSignal(ctx workflow.Context, c api.CancelRequest) {
	r.refuseUnverified(ctx, "cancel", c.RequestID, fmt.Errorf("a cancel signal carries no signature (claimed identity %q); cancel through the gateway", c.Identity))
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
	return r.pin.judge().MayCancel(r.req.Requester, c.Identity)
}

// applyCancel accepts a cancel from the requester or a release manager (it
// stops the running stage; during deploy the release then rolls back) and
// returns the verdict, with why it refused one otherwise.
func (r *release) applyCancel(ctx workflow.Context, c api.CancelRequest, env attest.Envelope) policy.Verdict {
	if v := r.judgeCancel(c); !v.Allowed {
		if r.refusals.count(c.Identity) {
			r.record(ctx, audit.Entry{Type: audit.EventCancelRefused, Stage: r.progress.stage, Actor: c.Identity,
				Channel: c.Channel, Outcome: api.OutcomeRefused, Rule: string(v.Rule), Detail: v.Reason,
				Envelope: json.RawMessage(env)})
			r.capNotice(ctx, c.Identity)
		}
		return v
	}
	r.cancel = &c
	r.record(ctx, audit.Entry{Type: audit.EventCancelRequested, Stage: r.progress.stage, Actor: c.Identity,
		Channel: c.Channel, Outcome: api.OutcomeAccepted, Detail: c.Reason, Envelope: json.RawMessage(env)})
	r.rt.stop()
	return policy.Verdict{Allowed: true}
}
