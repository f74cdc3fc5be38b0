package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/audit"
)

// listen handles decisions and cancels for the rest of the release, in one
// coroutine, so that every signal is judged in arrival order whatever stage
// the release is in.
func (r *release) listen(ctx workflow.Context) {
	decisions := workflow.GetSignalChannel(ctx, SignalDecision)
	cancels := workflow.GetSignalChannel(ctx, SignalCancel)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for ctx.Err() == nil {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(decisions, func(c workflow.ReceiveChannel, _ bool) {
				var d Decision
				c.Receive(ctx, &d)
				r.onDecision(ctx, d)
			})
			sel.AddReceive(cancels, func(c workflow.ReceiveChannel, _ bool) {
				var req CancelRequest
				c.Receive(ctx, &req)
				r.onCancel(ctx, req)
			})
			sel.Select(ctx)
		}
	})
}

// onCancel accepts a cancel from the requester or a release manager. A cancel
// stops the running stage; during deploy the release then rolls back.
func (r *release) onCancel(ctx workflow.Context, c CancelRequest) {
	why := ""
	switch {
	case r.result != nil:
		why = "release has already ended " + r.result.Status
	case r.cancelled():
		why = "release is already being cancelled by " + r.cancel.Identity
	case c.Identity != r.req.Requester && !r.pol.IsReleaseManager(c.Identity):
		why = fmt.Sprintf("%s is neither the requester (%s) nor a release manager", c.Identity, r.req.Requester)
	}
	if why != "" {
		r.record(ctx, audit.Entry{Type: audit.EventCancelRefused, Stage: r.stage, Actor: c.Identity,
			Channel: c.Channel, Outcome: OutcomeRefused, Detail: why})
		return
	}
	r.cancel = &c
	r.record(ctx, audit.Entry{Type: audit.EventCancelRequested, Stage: r.stage, Actor: c.Identity,
		Channel: c.Channel, Outcome: OutcomeAccepted, Detail: c.Reason})
	if r.stopStage != nil {
		r.stopStage()
	}
}
