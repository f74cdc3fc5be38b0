package workflows

import (
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/policy"
)

// inbox takes the requests people send a release: signed decisions and
// cancels as Updates (the caller gets the outcome in the same round trip),
// and the unsigned signals of the same, which it refuses and records. It
// judges each in arrival order and changes the release only through what
// the judge allowed.
type inbox struct {
	r *release
}

// registerUpdates takes signed decisions and cancels as Updates: the caller
// gets the outcome back in the same round trip.
func (in *inbox) registerUpdates(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, api.UpdateDecide, in.onDecide,
		workflow.UpdateHandlerOptions{Validator: in.validateDecide}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, api.UpdateCancel, in.onCancelUpdate,
		workflow.UpdateHandlerOptions{Validator: in.validateCancel})
}

// validateDecide rejects (without a trace in history) only what would be
// refused from a sender that has used up its recorded refusals, and
// anything before the policy is pinned.
func (in *inbox) validateDecide(ctx workflow.Context, req api.SignedRequest) error {
	r := in.r
	if !r.pin.ready() {
		return errNotReady()
	}
	d, err := r.pin.verifyDecision(req.Envelope, view{r}.judged())
	if err != nil {
		return r.refusals.admit(unverifiedSender)
	}
	_, seen := r.gates.outcome(d.RequestID)
	if !seen && in.judge(d, workflow.Now(ctx).UTC()).Outcome != api.OutcomeAccepted {
		if err := r.refusals.admit(d.Identity); err != nil {
			return err
		}
	}
	r.rt.validated[string(req.Envelope)] = d
	return nil
}

// errNotReady answers a request that arrives before the policy is pinned.
func errNotReady() error {
	return temporal.NewApplicationError("release is starting: its policy is not pinned yet; try again", api.ErrTypeNotReady)
}

// verifiedDecision is the validator's result for env if it just admitted
// it, else a fresh verification.
func (in *inbox) verifiedDecision(env attest.Envelope) (api.Decision, error) {
	r := in.r
	if d, ok := r.rt.takeValidated(env); ok {
		return d, nil
	}
	return r.pin.verifyDecision(env, view{r}.judged())
}

func (in *inbox) validateCancel(ctx workflow.Context, req api.SignedRequest) error {
	r := in.r
	if !r.pin.ready() {
		return errNotReady()
	}
	c, err := r.pin.verifyCancel(req.Envelope, view{r}.judged())
	if err == nil && in.judgeCancel(c).Allowed {
		return nil
	}
	sender := unverifiedSender
	if err == nil {
		sender = c.Identity
	}
	return r.refusals.admit(sender)
}

// onDecide judges a signed decision; an unverifiable one is refused and recorded.
func (in *inbox) onDecide(ctx workflow.Context, req api.SignedRequest) (api.DecisionOutcome, error) {
	d, err := in.verifiedDecision(req.Envelope)
	if err != nil {
		return in.refuseUnverified(ctx, "decision", updateID(ctx), err), nil
	}
	return in.decideVerified(ctx, d, req.Envelope), nil
}

// onCancelUpdate applies a signed cancel; an unverifiable one is refused and recorded.
func (in *inbox) onCancelUpdate(ctx workflow.Context, req api.SignedRequest) (api.CancelOutcome, error) {
	r := in.r
	c, err := r.pin.verifyCancel(req.Envelope, view{r}.judged())
	if err != nil {
		o := in.refuseUnverified(ctx, "cancel", updateID(ctx), err)
		return api.CancelOutcome{RequestID: o.RequestID, Outcome: api.OutcomeRefused, Rule: o.Rule, Reason: o.Reason}, nil
	}
	if v := in.applyCancel(ctx, c, req.Envelope); !v.Allowed {
		return api.CancelOutcome{RequestID: c.RequestID, Outcome: api.OutcomeRefused, Rule: v.Rule, Reason: v.Reason}, nil
	}
	return api.CancelOutcome{RequestID: c.RequestID, Outcome: api.OutcomeAccepted}, nil
}

// refuseUnverified records a request whose signature did not verify. Its
// claims are not trusted: no actor, and its outcome is not kept under its
// request id (which would let a forger pre-empt someone else's).
func (in *inbox) refuseUnverified(ctx workflow.Context, kind, id string, err error) api.DecisionOutcome {
	r := in.r
	o := api.DecisionOutcome{RequestID: id, Outcome: api.OutcomeRefused, Rule: api.RuleUnverified,
		Reason: fmt.Sprintf("unverified %s: %s", kind, err)}
	r.meter().decision(ctx, api.Decision{RequestID: id}, o)
	if r.refusals.count(unverifiedSender) {
		r.record(ctx, audit.Entry{Type: audit.EventDecisionRefused, Stage: r.progress.stage, Outcome: api.OutcomeRefused,
			Rule: string(api.RuleUnverified), Detail: fmt.Sprintf("%s refused (update %q, %s): %s", kind, id, attest.CodeOf(err), err)})
		in.capNotice(ctx, unverifiedSender)
	}
	return o
}

// capNotice records, once, that sender's later refusals go unrecorded.
func (in *inbox) capNotice(ctx workflow.Context, sender string) {
	r := in.r
	if !r.refusals.justCapped(sender) {
		return
	}
	r.record(ctx, audit.Entry{Type: audit.EventRefusalsCapped, Stage: r.progress.stage, Actor: sender, Outcome: api.OutcomeRefused,
		Detail: fmt.Sprintf("%d refused requests from %s recorded; later ones are refused without a record", refusalCap, sender)})
}

// updateID is the id of the Update being handled.
func updateID(ctx workflow.Context) string {
	if info := workflow.GetCurrentUpdateInfo(ctx); info != nil {
		return info.ID
	}
	return ""
}

// listen handles decisions and cancels for the rest of the release, in one
// coroutine, so that every signal is judged in arrival order whatever stage
// the release is in.
func (in *inbox) listen(ctx workflow.Context) {
	decisions := workflow.GetSignalChannel(ctx, api.SignalDecision)
	cancels := workflow.GetSignalChannel(ctx, api.SignalCancel)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for ctx.Err() == nil {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(decisions, func(c workflow.ReceiveChannel, _ bool) {
				var d api.Decision
				c.Receive(ctx, &d)
				in.onDecisionSignal(ctx, in.r.refusals.nameSignal(d))
			})
			sel.AddReceive(cancels, func(c workflow.ReceiveChannel, _ bool) {
				var req api.CancelRequest
				c.Receive(ctx, &req)
				in.onCancelSignal(ctx, req)
			})
			sel.Select(ctx)
		}
	})
}

// onDecisionSignal refuses (and records) a decision signal: a signal
// carries no signature.
func (in *inbox) onDecisionSignal(ctx workflow.Context, d api.Decision) {
	in.refuseUnverified(ctx, "decision", d.RequestID, fmt.Errorf("a decision signal carries no signature (claimed identity %q); decide through the gateway", d.Identity))
}

// onCancelSignal refuses (and records) a cancel signal: a signal carries
// no signature.
func (in *inbox) onCancelSignal(ctx workflow.Context, c api.CancelRequest) {
	in.refuseUnverified(ctx, "cancel", c.RequestID, fmt.Errorf("a cancel signal carries no signature (claimed identity %q); cancel through the gateway", c.Identity))
}

// judgeCancel says whether c may cancel the release: only the requester or
// a release manager, once, before the release ends.
func (in *inbox) judgeCancel(c api.CancelRequest) policy.Verdict {
	r := in.r
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
func (in *inbox) applyCancel(ctx workflow.Context, c api.CancelRequest, env attest.Envelope) policy.Verdict {
	r := in.r
	if v := in.judgeCancel(c); !v.Allowed {
		if r.refusals.count(c.Identity) {
			r.record(ctx, audit.Entry{Type: audit.EventCancelRefused, Stage: r.progress.stage, Actor: c.Identity,
				Channel: c.Channel, Outcome: api.OutcomeRefused, Rule: string(v.Rule), Detail: v.Reason,
				Envelope: json.RawMessage(env)})
			in.capNotice(ctx, c.Identity)
		}
		return v
	}
	r.cancel = &c
	r.record(ctx, audit.Entry{Type: audit.EventCancelRequested, Stage: r.progress.stage, Actor: c.Identity,
		Channel: c.Channel, Outcome: api.OutcomeAccepted, Detail: c.Reason, Envelope: json.RawMessage(env)})
	r.rt.stop()
	return policy.Verdict{Allowed: true}
}
