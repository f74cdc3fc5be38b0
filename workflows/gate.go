package workflows

import (
	"fmt"
	"strings"
	"time"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/judge"
	"github.com/foureyes/foureyes/policy"
)

// gate is one policy gate while (and after) it waits for decisions. It owns
// its signers, its state and the judging of the decisions made at it; the
// release only records and publishes what the gate decided. Its methods do
// no workflow calls, so they are tested without a workflow.
type gate struct {
	name      string
	rule      policy.GateRule
	opened    time.Time
	deadline  time.Time
	signed    []api.Signer
	state     string
	promptRef string                         // reference of the prompt message, for updates
	awaiting  []string                       // who may still sign, as of the last state change (refreshAwaiting)
	outcomes  map[string]api.DecisionOutcome // of decisions naming this gate, by request id; looked up, never iterated
}

// judgeInput is what a gate needs from its release to judge a decision.
type judgeInput struct {
	pol       *policy.Policy
	facts     policy.Check // the release's facts at workflow time (release.facts)
	cancelled bool         // an accepted cancel closes the gate to decisions
	status    string       // the release's status, named when no gate is open
}

// open reports whether g is open (nil, before the first gate, is not).
func (g *gate) open() bool { return g != nil && g.state == api.GateOpen }

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

// check is the policy question for one identity at this gate, from the
// release's facts.
func (g *gate) check(facts policy.Check, identity string) policy.Check {
	c := facts
	c.Gate, c.Identity, c.Signed = g.name, identity, g.signerIDs()
	if g.name == api.GateFollowUp { // judged by the review gate's rule
		c.Gate = policy.GateReview
	}
	return c
}

// judge applies the gate's state and the pinned policy to a decision. g is
// the release's current gate: nil before the first one opens.
func (g *gate) judge(d api.Decision, in judgeInput) api.DecisionOutcome {
	o := api.DecisionOutcome{RequestID: d.RequestID, Gate: d.Gate}
	switch {
	case d.Verdict != api.VerdictApprove && d.Verdict != api.VerdictReject:
		o.Outcome, o.Rule = api.OutcomeRefused, api.RuleBadVerdict
		o.Reason = fmt.Sprintf("verdict %q is neither approve nor reject", d.Verdict)
	case !g.takes(d.Gate) || in.cancelled:
		o.Outcome, o.Rule, o.Reason = api.OutcomeGateClosed, api.RuleGateClosed, g.closedReason(d.Gate, in.status)
	default:
		v := g.decide(d, in)
		o.Outcome, o.Rule, o.Reason = api.OutcomeRefused, v.Rule, v.Reason
		if v.Allowed {
			o.Outcome, o.Reason = api.OutcomeAccepted, ""
		}
	}
	return o
}

// takes reports whether g is the open gate a decision naming name is for.
func (g *gate) takes(name string) bool { return g.open() && g.name == name }

// decide applies the pinned policy's rules, then (where it applies) the
// comment rule, to a decision at this open gate.
func (g *gate) decide(d api.Decision, in judgeInput) policy.Verdict {
	c := g.check(in.facts, d.Identity)
	c.Reject = d.Verdict == api.VerdictReject
	return (&judge.Judge{Policy: in.pol}).Decide(c, true, d.Comment)
}

// closedReason says why a decision naming gate name is not judged here.
func (g *gate) closedReason(name, status string) string {
	if g != nil && g.name == name {
		return fmt.Sprintf("gate %s is %s", name, g.state)
	}
	if g.open() {
		return fmt.Sprintf("gate %s is not open; the open gate is %s", name, g.name)
	}
	return fmt.Sprintf("gate %s is not open (release is %s)", name, status)
}

// sign adds the signer of an accepted decision and moves the gate: any
// rejection rejects it, the quorum of approvals approves it. It returns the
// gate's new state (still open while the quorum is not reached).
func (g *gate) sign(d api.Decision, now time.Time) string {
	g.signed = append(g.signed, api.Signer{Identity: d.Identity, Verdict: d.Verdict,
		Channel: d.Channel, Comment: d.Comment, At: now})
	g.state = judge.Tally(d.Verdict, g.approvals(), g.rule.Quorum)
	return g.state
}

// refreshAwaiting recomputes who may still sign, once per state change, so
// that the status, the search attribute, the details and the notifications
// all read one answer (the policy's depends on the time: freeze windows).
func (g *gate) refreshAwaiting(pol *policy.Policy, facts policy.Check) {
	g.awaiting = nil
	if g.open() {
		g.awaiting = pol.Awaiting(g.check(facts, ""))
	}
}

// keep remembers the outcome of a decision that named this gate.
func (g *gate) keep(o api.DecisionOutcome) {
	if g.outcomes == nil {
		g.outcomes = map[string]api.DecisionOutcome{}
	}
	g.outcomes[o.RequestID] = o
}

// whoMaySign is who may still sign: nobody once the gate is decided, and
// nobody before a gate opened (g nil).
func (g *gate) whoMaySign() []string {
	if !g.open() {
		return nil
	}
	return g.awaiting
}
