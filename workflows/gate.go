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

// gate is one policy gate while (and after) it waits for decisions.
type gate struct {
	name      string
	rule      policy.GateRule
	opened    time.Time
	deadline  time.Time
	signed    []api.Signer
	state     string
	promptRef string // reference of the prompt message, for updates
}

func (g *gate) open() bool { return g.state == api.GateOpen }

func (g *gate) signerIDs() []string {
	ids := make([]string, 0, len(g.signed))
	for _, s := range g.signed {
		ids = append(ids, s.Identity)
	}
	return ids
}

func (g *gate) approvals() int {
	n := 0
	for _, s := range g.signed {
		if s.Verdict == api.VerdictApprove {
			n++
		}
	}
	return n
}

// needed describes the quorum in words, e.g. "2 of prod-owners".
func (g *gate) needed() string {
	who := append(append([]string{}, g.rule.Groups...), g.rule.Identities...)
	return fmt.Sprintf("%d of %s", g.rule.Quorum, strings.Join(who, ", "))
}

// check builds the policy question for one identity at a gate.
func (r *release) check(g *gate, identity string, now time.Time) policy.Check {
	c := policy.Check{
		Environment: r.req.Environment, Gate: g.name, Identity: identity,
		Authors: r.authors(), Unmapped: r.src.unmapped, Requester: r.req.Requester, Declarer: r.declarer(),
		Earlier: r.earlier, Signed: g.signerIDs(), Executors: r.executors, Now: now,
	}
	if g.name == api.GateFollowUp { // judged by the review gate's rule; signers of the emergency may sign it
		c.Gate, c.Earlier = policy.GateReview, nil
	}
	return c
}

// openGate opens a gate with the rule of the pinned policy. A missing rule
// opens a gate nobody can sign: it can only expire or be cancelled.
func (r *release) openGate(ctx workflow.Context, name string) *gate {
	rule, _ := r.pol.Rule(r.req.Environment, name)
	rule = r.emergencyRule(name, rule)
	now := workflow.Now(ctx).UTC()
	g := &gate{name: name, rule: rule, opened: now, state: api.GateOpen,
		deadline: now.Add(rule.Deadline.Std())}
	r.gate = g
	r.gates = append(r.gates, g)
	r.record(ctx, audit.Entry{Type: audit.EventGateOpened, Stage: r.stage,
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
	r.record(ctx, audit.Entry{Type: audit.EventGateReminder, Stage: r.stage,
		Detail: fmt.Sprintf("half the deadline passed; awaiting %s", strings.Join(r.statusView().Awaiting, ", "))})
	r.notify(ctx, r.notification(api.NotifyReminder, g, ""))
	ok, err = workflow.AwaitWithTimeout(ctx, g.deadline.Sub(workflow.Now(ctx)), done)
	if err != nil || ok {
		return err
	}
	g.state = api.GateExpired
	r.record(ctx, audit.Entry{Type: audit.EventGateExpired, Stage: r.stage, Outcome: api.GateExpired,
		Detail: fmt.Sprintf("gate %s expired with %d of %d approvals", g.name, g.approvals(), g.rule.Quorum)})
	return nil
}

// onDecision judges one decision signal. A signal carries no signature:
// releases with signed attestations refuse it (and record the refusal).
func (r *release) onDecision(ctx workflow.Context, d api.Decision) {
	r.seq++
	if d.RequestID == "" {
		d.RequestID = fmt.Sprintf("unnamed-%d", r.seq)
	}
	if r.trust.signed {
		r.refuseUnverified(ctx, "decision", d.RequestID, fmt.Errorf("a decision signal carries no signature (claimed identity %q); decide through the gateway", d.Identity))
		return
	}
	r.decideVerified(ctx, d, nil)
}

// decideVerified judges a decision whose origin is established. A retried
// delivery of the same request id counts once: its first outcome stands.
func (r *release) decideVerified(ctx workflow.Context, d api.Decision, env attest.Envelope) api.DecisionOutcome {
	if o, seen := r.outcomes[d.RequestID]; seen {
		return o
	}
	now := workflow.Now(ctx).UTC()
	o := r.judge(d, now)
	r.outcomes[d.RequestID] = o
	r.countDecision(ctx, d, o)
	if o.Outcome != api.OutcomeAccepted {
		r.refuse(ctx, d, o, now, env)
		return o
	}
	r.accept(ctx, d, now, env)
	return o
}

// judge applies the gate state and the pinned policy to a decision.
func (r *release) judge(d api.Decision, now time.Time) api.DecisionOutcome {
	o := api.DecisionOutcome{RequestID: d.RequestID, Gate: d.Gate}
	switch {
	case d.Verdict != api.VerdictApprove && d.Verdict != api.VerdictReject:
		o.Outcome, o.Rule = api.OutcomeRefused, api.RuleBadVerdict
		o.Reason = fmt.Sprintf("verdict %q is neither approve nor reject", d.Verdict)
	case r.gate == nil || r.gate.name != d.Gate || !r.gate.open() || r.cancelled():
		o.Outcome, o.Rule, o.Reason = api.OutcomeGateClosed, api.RuleGateClosed, r.closedReason(d.Gate)
	default:
		v := r.decide(d, now)
		o.Outcome, o.Rule, o.Reason = api.OutcomeRefused, v.Rule, v.Reason
		if v.Allowed {
			o.Outcome, o.Reason = api.OutcomeAccepted, ""
		}
	}
	return o
}

// decide applies the pinned policy's rules, then the comment rule, to a
// decision at the open gate.
func (r *release) decide(d api.Decision, now time.Time) policy.Verdict {
	c := r.check(r.gate, d.Identity, now)
	c.Reject = d.Verdict == api.VerdictReject
	v := r.pol.Decide(c)
	if !v.Allowed {
		return v
	}
	if cv := r.checkComment(c, d.Comment); !cv.Allowed {
		return cv
	}
	return v
}

func (r *release) closedReason(gateName string) string {
	if r.gate != nil && r.gate.name == gateName {
		return fmt.Sprintf("gate %s is %s", gateName, r.gate.state)
	}
	if r.gate != nil && r.gate.open() {
		return fmt.Sprintf("gate %s is not open; the open gate is %s", gateName, r.gate.name)
	}
	return fmt.Sprintf("gate %s is not open (release is %s)", gateName, r.status)
}

func (r *release) refuse(ctx workflow.Context, d api.Decision, o api.DecisionOutcome, now time.Time, env attest.Envelope) {
	r.refusal = &api.Refusal{Identity: d.Identity, Gate: d.Gate, Channel: d.Channel, Rule: o.Rule, Reason: o.Reason, At: now}
	if r.trust.signed && !r.countRefusal(ctx, d.Identity) {
		return
	}
	r.record(ctx, audit.Entry{Type: audit.EventDecisionRefused, Stage: r.stage, Actor: d.Identity,
		Channel: d.Channel, Outcome: o.Outcome, Rule: r.auditRule(o.Rule), Envelope: json.RawMessage(env),
		Detail: fmt.Sprintf("%s at gate %s refused: %s", d.Verdict, d.Gate, o.Reason)})
	if r.trust.signed {
		r.capNotice(ctx, d.Identity)
	}
}

func (r *release) accept(ctx workflow.Context, d api.Decision, now time.Time, env attest.Envelope) {
	g := r.gate
	if env != nil {
		r.trust.decisions = append(r.trust.decisions, env)
	}
	g.signed = append(g.signed, api.Signer{Identity: d.Identity, Verdict: d.Verdict,
		Channel: d.Channel, Comment: d.Comment, At: now})
	switch { // before recording, so that what is published is the gate's new state
	case d.Verdict == api.VerdictReject:
		g.state = api.GateRejected
	case g.approvals() >= g.rule.Quorum:
		g.state = api.GateApproved
	}
	r.record(ctx, audit.Entry{Type: audit.EventDecision, Stage: r.stage, Actor: d.Identity,
		Channel: d.Channel, Outcome: d.Verdict, Envelope: json.RawMessage(env),
		Detail: fmt.Sprintf("%s at gate %s (%d of %d); comment: %q", d.Verdict, g.name, g.approvals(), g.rule.Quorum, d.Comment)})
	switch g.state {
	case api.GateRejected:
		r.record(ctx, audit.Entry{Type: audit.EventGateRejected, Stage: r.stage, Actor: d.Identity,
			Outcome: api.GateRejected, Detail: fmt.Sprintf("gate %s rejected by %s", g.name, d.Identity)})
	case api.GateApproved:
		r.record(ctx, audit.Entry{Type: audit.EventGateApproved, Stage: r.stage, Outcome: api.GateApproved,
			Detail: fmt.Sprintf("gate %s approved by %s", g.name, strings.Join(g.signerIDs(), ", "))})
	}
	r.notify(ctx, r.notification(api.NotifyDecision, g, d.Identity+" "+d.Verdict+"d"))
}

// closeGate ends a gate: its signers become earlier signers for later gates.
func (r *release) closeGate(g *gate) {
	if g.open() {
		g.state = api.GateClosed
	}
	r.earlier = append(r.earlier, g.signerIDs()...)
}
