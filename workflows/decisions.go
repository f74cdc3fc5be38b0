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
	"github.com/foureyes/foureyes/policy"
)

// The release's side of a gate: it opens and waits for gates, and records,
// counts and publishes what the gate (gate.go) decided.

// facts are what the policy asks of the release, at workflow time now; the
// gate adds itself, its signers and the identity (gate.check).
func (r *release) facts(now time.Time) policy.Check {
	return policy.Check{
		Environment: r.req.Environment, Authors: r.src.authors(), Signers: r.src.signers(&r.pin.policy),
		Unmapped: r.src.unmapped, Requester: r.req.Requester, Declarer: r.urgency.declarer(),
		Earlier: r.gates.earlier, Executors: r.progress.executors, Now: now,
	}
}

// judge asks the current gate (nil before the first) for a decision's outcome.
func (in *inbox) judge(d api.Decision, now time.Time) api.DecisionOutcome {
	return in.r.gates.current.judge(d, judgeInput{pol: &in.r.pin.policy, facts: in.r.facts(now),
		cancelled: in.r.cancelled(), status: in.r.progress.status})
}

// refreshAwaiting recomputes who may sign the current gate, at the time of
// the last recorded step (what the status query always answered with).
func (r *release) refreshAwaiting() {
	if g := r.gates.current; g != nil {
		g.refreshAwaiting(&r.pin.policy, r.facts(r.trail.now))
	}
}

// openGate opens a gate with the rule of the pinned policy. A missing rule
// opens a gate nobody can sign: it can only expire or be cancelled.
func (r *release) openGate(ctx workflow.Context, name string) *gate {
	rule, _ := r.pin.policy.Rule(r.req.Environment, name)
	rule = r.urgency.gateRule(name, rule)
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

// decideVerified judges a decision whose origin is established. A retried
// delivery of the same request id counts once: its first outcome stands.
func (in *inbox) decideVerified(ctx workflow.Context, d api.Decision, env attest.Envelope) api.DecisionOutcome {
	if o, seen := in.r.gates.outcome(d.RequestID); seen {
		return o
	}
	now := workflow.Now(ctx).UTC()
	o := in.judge(d, now)
	in.r.gates.keep(o)
	in.r.meter().decision(ctx, d, o)
	if o.Outcome != api.OutcomeAccepted {
		in.refuse(ctx, d, o, now, env)
		return o
	}
	in.accept(ctx, d, now, env)
	return o
}

// refuse records a refused decision, up to its sender's cap.
func (in *inbox) refuse(ctx workflow.Context, d api.Decision, o api.DecisionOutcome, now time.Time, env attest.Envelope) {
	in.r.refusals.last = &api.Refusal{Identity: d.Identity, Gate: d.Gate, Channel: d.Channel, Rule: o.Rule, Reason: o.Reason, At: now}
	if !in.r.refusals.count(d.Identity) {
		return
	}
	in.r.record(ctx, audit.Entry{Type: audit.EventDecisionRefused, Stage: in.r.progress.stage, Actor: d.Identity,
		Channel: d.Channel, Outcome: o.Outcome, Rule: string(o.Rule), Envelope: json.RawMessage(env),
		Detail: fmt.Sprintf("%s at gate %s refused: %s", d.Verdict, d.Gate, o.Reason)})
	in.capNotice(ctx, d.Identity)
}

// accept records an accepted decision: the gate signs it before anything is
// recorded, so that what is published is the gate's new state.
func (in *inbox) accept(ctx workflow.Context, d api.Decision, now time.Time, env attest.Envelope) {
	g := in.r.gates.current
	if env != nil {
		in.r.evidence.decisions = append(in.r.evidence.decisions, env)
	}
	state := g.sign(d, now)
	in.r.record(ctx, audit.Entry{Type: audit.EventDecision, Stage: in.r.progress.stage, Actor: d.Identity,
		Channel: d.Channel, Outcome: d.Verdict, Envelope: json.RawMessage(env),
		Detail: fmt.Sprintf("%s at gate %s (%d of %d); comment: %q", d.Verdict, g.name, g.approvals(), g.rule.Quorum, d.Comment)})
	in.recordGateDecided(ctx, g, state, d.Identity)
	if state == api.GateOpen {
		// a decision that decides the gate is told by the gate's outcome
		// notice, sent in the same workflow task
		in.r.rt.notify(ctx, view{in.r}.notification(api.NotifyDecision, g, d.Identity+" "+d.Verdict+"d"))
	}
}

// recordGateDecided records a gate's rejection or approval (nothing while
// it stays open).
func (in *inbox) recordGateDecided(ctx workflow.Context, g *gate, state, signer string) {
	switch state {
	case api.GateRejected:
		in.r.record(ctx, audit.Entry{Type: audit.EventGateRejected, Stage: in.r.progress.stage, Actor: signer,
			Outcome: api.GateRejected, Detail: fmt.Sprintf("gate %s rejected by %s", g.name, signer)})
	case api.GateApproved:
		in.r.record(ctx, audit.Entry{Type: audit.EventGateApproved, Stage: in.r.progress.stage, Outcome: api.GateApproved,
			Detail: fmt.Sprintf("gate %s approved by %s", g.name, strings.Join(g.signerIDs(), ", "))})
	}
}
