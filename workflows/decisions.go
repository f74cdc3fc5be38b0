package workflows

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
)

// How the inbox decides a decision whose origin is established: the
// current gate judges it (gate.go), and the inbox records, counts and tells
// what the gate decided.

// judge asks the current gate (nil before the first) for a decision's outcome.
func (in *inbox) judge(d api.Decision, now time.Time) api.DecisionOutcome {
	r := in.r
	return r.gates.current.judge(d, judgeInput{pol: &r.pin.policy, facts: r.facts(now),
		cancelled: r.cancelled(), status: r.progress.status})
}

// decideVerified judges a decision whose origin is established. A retried
// delivery of the same request id counts once: its first outcome stands.
func (in *inbox) decideVerified(ctx workflow.Context, d api.Decision, env attest.Envelope) api.DecisionOutcome {
	r := in.r
	if o, seen := r.gates.outcome(d.RequestID); seen {
		return o
	}
	now := workflow.Now(ctx).UTC()
	o := in.judge(d, now)
	r.gates.keep(o)
	r.meter().decision(ctx, d, o)
	if o.Outcome != api.OutcomeAccepted {
		in.refuse(ctx, d, o, now, env)
		return o
	}
	in.accept(ctx, d, now, env)
	return o
}

// refuse records a refused decision, up to its sender's cap.
func (in *inbox) refuse(ctx workflow.Context, d api.Decision, o api.DecisionOutcome, now time.Time, env attest.Envelope) {
	r := in.r
	r.refusals.last = &api.Refusal{Identity: d.Identity, Gate: d.Gate, Channel: d.Channel, Rule: o.Rule, Reason: o.Reason, At: now}
	if !r.refusals.count(d.Identity) {
		return
	}
	r.record(ctx, audit.Entry{Type: audit.EventDecisionRefused, Stage: r.progress.stage, Actor: d.Identity,
		Channel: d.Channel, Outcome: o.Outcome, Rule: string(o.Rule), Envelope: json.RawMessage(env),
		Detail: fmt.Sprintf("%s at gate %s refused: %s", d.Verdict, d.Gate, o.Reason)})
	in.capNotice(ctx, d.Identity)
}

// accept records an accepted decision: the gate signs it before anything is
// recorded, so that what is published is the gate's new state.
func (in *inbox) accept(ctx workflow.Context, d api.Decision, now time.Time, env attest.Envelope) {
	r := in.r
	g := r.gates.current
	if env != nil {
		r.evidence.decisions = append(r.evidence.decisions, env)
	}
	state := g.sign(d, now)
	r.record(ctx, audit.Entry{Type: audit.EventDecision, Stage: r.progress.stage, Actor: d.Identity,
		Channel: d.Channel, Outcome: d.Verdict, Envelope: json.RawMessage(env),
		Detail: fmt.Sprintf("%s at gate %s (%d of %d); comment: %q", d.Verdict, g.name, g.approvals(), g.rule.Quorum, d.Comment)})
	in.recordGateDecided(ctx, g, state, d.Identity)
	if state == api.GateOpen {
		// a decision that decides the gate is told by the gate's outcome
		// notice, sent in the same workflow task
		r.rt.notify(ctx, view{r}.notification(api.NotifyDecision, g, d.Identity+" "+d.Verdict+"d"))
	}
}

// recordGateDecided records a gate's rejection or approval (nothing while
// it stays open).
func (in *inbox) recordGateDecided(ctx workflow.Context, g *gate, state, signer string) {
	r := in.r
	switch state {
	case api.GateRejected:
		r.record(ctx, audit.Entry{Type: audit.EventGateRejected, Stage: r.progress.stage, Actor: signer,
			Outcome: api.GateRejected, Detail: fmt.Sprintf("gate %s rejected by %s", g.name, signer)})
	case api.GateApproved:
		r.record(ctx, audit.Entry{Type: audit.EventGateApproved, Stage: r.progress.stage, Outcome: api.GateApproved,
			Detail: fmt.Sprintf("gate %s approved by %s", g.name, strings.Join(g.signerIDs(), ", "))})
	}
}
