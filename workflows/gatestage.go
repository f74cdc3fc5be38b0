package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/policy"
)

// The release's side of a gate: it opens the gate with its rule, asks its
// signers, waits until it is decided, expired or cancelled, and closes it.
// The gate judges (gate.go); the inbox records what it decided (decisions.go).

// gateStage opens a gate, asks its signers and waits for the outcome.
// It returns goOn when the gate approved.
func (r *release) gateStage(ctx workflow.Context, name, stage, status string) ending {
	r.setStage(ctx, stage, status)
	g := r.openGate(ctx, name)
	r.prompt(ctx, g)
	err := r.waitGate(ctx, g)
	r.gates.close(g)
	r.meter().gateWait(ctx, g)
	r.notifyOutcome(ctx, g, err == nil && !r.cancelled() && g.state == api.GateApproved)
	switch {
	case err != nil || r.cancelled():
		return r.stopped(ctx, api.StatusFailed, "gate wait failed: "+rootMessage(err))
	case g.state == api.GateRejected:
		last := g.signed[len(g.signed)-1]
		return endWith(api.StatusRejected, fmt.Sprintf("gate %s rejected by %s: %s", name, last.Identity, last.Comment))
	case g.state == api.GateExpired:
		return endWith(api.StatusExpired, fmt.Sprintf("gate %s expired at %s with %d of %d approvals",
			name, g.deadline.Format(time.RFC3339), g.approvals(), g.rule.Quorum))
	}
	return goOn
}

// waitFreeze holds an approved release until the approval gate's freeze
// windows are over: no deploy inside them.
func (r *release) waitFreeze(ctx workflow.Context) ending {
	for {
		w, frozen := r.pin.policy.Frozen(r.req.Environment, policy.GateApproval, workflow.Now(ctx))
		if !frozen {
			return goOn
		}
		r.setStage(ctx, api.StageDeploy, api.StatusFrozen)
		r.record(ctx, audit.Entry{Type: audit.EventFreezeWait, Stage: api.StageDeploy,
			Detail: fmt.Sprintf("freeze window %q until %s: deploy waits", w.Reason, w.End.Format(time.RFC3339))})
		_, err := workflow.AwaitWithTimeout(ctx, w.End.Sub(workflow.Now(ctx)), r.cancelled)
		if err != nil || r.cancelled() {
			return r.stopped(ctx, api.StatusFailed, "freeze wait failed: "+rootMessage(err))
		}
	}
}

// openGate opens a gate with the rule of the pinned policy. A missing rule
// opens a gate nobody can sign: it can only expire or be cancelled.
func (r *release) openGate(ctx workflow.Context, name string) *gate {
	rule, _ := r.pin.policy.Rule(r.req.Environment, name)
	rule = r.emergency.gateRule(name, rule)
	now := workflow.Now(ctx).UTC()
	g := &gate{name: name, rule: rule, opened: now, state: api.GateOpen,
		deadline: now.Add(rule.Deadline.Std())}
	r.gates.add(g)
	r.record(ctx, audit.Entry{Type: audit.EventGateOpened, Stage: r.progress.stage,
		Detail: fmt.Sprintf("gate %s needs %s by %s", name, g.needed(), g.deadline.Format(time.RFC3339))})
	return g
}

// waitGate waits until the gate is decided, cancelled or expired, sending a
// reminder at half the deadline.
func (r *release) waitGate(ctx workflow.Context, g *gate) error {
	done := func() bool { return !g.open() || r.cancelled() }
	half := g.deadline.Sub(g.opened) / 2
	ok, err := workflow.AwaitWithTimeout(ctx, half, done)
	if err != nil || ok {
		return err
	}
	r.record(ctx, audit.Entry{Type: audit.EventGateReminder, Stage: r.progress.stage,
		Detail: fmt.Sprintf("half the deadline passed; awaiting %s", strings.Join(g.whoMaySign(), ", "))})
	r.rt.notify(ctx, view{r}.notification(api.NotifyReminder, g, ""))
	ok, err = workflow.AwaitWithTimeout(ctx, g.deadline.Sub(workflow.Now(ctx)), done)
	if err != nil || ok {
		return err
	}
	g.state = api.GateExpired
	r.record(ctx, audit.Entry{Type: audit.EventGateExpired, Stage: r.progress.stage, Outcome: api.GateExpired,
		Detail: fmt.Sprintf("gate %s expired with %d of %d approvals", g.name, g.approvals(), g.rule.Quorum)})
	return nil
}
