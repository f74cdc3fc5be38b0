package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
)

// registerUpdates takes signed decisions and cancels as Updates: the caller
// gets the outcome back in the same round trip.
func (r *release) registerUpdates(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, api.UpdateDecide, r.onDecide,
		workflow.UpdateHandlerOptions{Validator: r.validateDecide}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, api.UpdateCancel, r.onCancelUpdate,
		workflow.UpdateHandlerOptions{Validator: r.validateCancel})
}

// validateDecide rejects (without a trace in history) only what would be
// refused from a sender that has used up its recorded refusals, and
// anything before the policy is pinned.
func (r *release) validateDecide(ctx workflow.Context, req api.SignedRequest) error {
	if !r.pin.ready() {
		return errNotReady()
	}
	d, err := r.verifyDecision(req.Envelope)
	if err != nil {
		return r.refusals.admit(unverifiedSender)
	}
	_, seen := r.gates.outcome(d.RequestID)
	if !seen && r.judge(d, workflow.Now(ctx).UTC()).Outcome != api.OutcomeAccepted {
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
func (r *release) verifiedDecision(env attest.Envelope) (api.Decision, error) {
	if d, ok := r.rt.takeValidated(env); ok {
		return d, nil
	}
	return r.verifyDecision(env)
}

func (r *release) validateCancel(ctx workflow.Context, req api.SignedRequest) error {
	if !r.pin.ready() {
		return errNotReady()
	}
	c, err := r.verifyCancel(req.Envelope)
	if err == nil && r.judgeCancel(c).Allowed {
		return nil
	}
	sender := unverifiedSender
	if err == nil {
		sender = c.Identity
	}
	return r.refusals.admit(sender)
}

// onDecide judges a signed decision; an unverifiable one is refused and recorded.
func (r *release) onDecide(ctx workflow.Context, req api.SignedRequest) (api.DecisionOutcome, error) {
	d, err := r.verifiedDecision(req.Envelope)
	if err != nil {
		return r.refuseUnverified(ctx, "decision", updateID(ctx), err), nil
	}
	return r.decideVerified(ctx, d, req.Envelope), nil
}

// onCancelUpdate applies a signed cancel; an unverifiable one is refused and recorded.
func (r *release) onCancelUpdate(ctx workflow.Context, req api.SignedRequest) (api.CancelOutcome, error) {
	c, err := r.verifyCancel(req.Envelope)
	if err != nil {
		o := r.refuseUnverified(ctx, "cancel", updateID(ctx), err)
		return api.CancelOutcome{RequestID: o.RequestID, Outcome: api.OutcomeRefused, Rule: o.Rule, Reason: o.Reason}, nil
	}
	if v := r.applyCancel(ctx, c, req.Envelope); !v.Allowed {
		return api.CancelOutcome{RequestID: c.RequestID, Outcome: api.OutcomeRefused, Rule: v.Rule, Reason: v.Reason}, nil
	}
	return api.CancelOutcome{RequestID: c.RequestID, Outcome: api.OutcomeAccepted}, nil
}

// refuseUnverified records a request whose signature did not verify. Its
// claims are not trusted: no actor, and its outcome is not kept under its
// request id (which would let a forger pre-empt someone else's).
func (r *release) refuseUnverified(ctx workflow.Context, kind, id string, err error) api.DecisionOutcome {
	o := api.DecisionOutcome{RequestID: id, Outcome: api.OutcomeRefused, Rule: api.RuleUnverified,
		Reason: fmt.Sprintf("unverified %s: %s", kind, err)}
	r.countDecision(ctx, api.Decision{RequestID: id}, o)
	if r.refusals.count(unverifiedSender) {
		r.record(ctx, audit.Entry{Type: audit.EventDecisionRefused, Stage: r.progress.stage, Outcome: api.OutcomeRefused,
			Rule: string(api.RuleUnverified), Detail: fmt.Sprintf("%s refused (update %q, %s): %s", kind, id, attest.CodeOf(err), err)})
		r.capNotice(ctx, unverifiedSender)
	}
	return o
}

// capNotice records, once, that sender's later refusals go unrecorded.
func (r *release) capNotice(ctx workflow.Context, sender string) {
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
