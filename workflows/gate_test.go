package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/policy"
)

// The gate's judging, tested without a workflow: the test policy's
// approval gate needs 2 of prod-owners; alice authored, rita requested.

func approvalGate(t *testing.T, pol *policy.Policy) *gate {
	rule, ok := pol.Rule("prod", policy.GateApproval)
	assert.True(t, ok)
	return &gate{name: policy.GateApproval, rule: rule, state: api.GateOpen}
}

func gateInput(pol *policy.Policy) judgeInput {
	facts := policy.Check{Environment: "prod", Authors: []string{"alice"}, Requester: "rita",
		Earlier: []string{"bob"}, Now: t0}
	return judgeInput{pol: pol, facts: facts, status: api.StatusAwaitingApproval}
}

func decision(id, who, verdict string) api.Decision {
	return api.Decision{RequestID: id, Gate: policy.GateApproval, Identity: who, Verdict: verdict,
		Channel: api.ChannelAPI, Comment: who + " says " + verdict}
}

// judgeAndSign judges d at g and, when accepted, signs it, as the release does.
func judgeAndSign(g *gate, d api.Decision, in judgeInput) api.DecisionOutcome {
	o := g.judge(d, in)
	if o.Outcome == api.OutcomeAccepted {
		g.sign(d, t0)
	}
	return o
}

func TestGateReachesQuorumWithTheSecondApproval(t *testing.T) {
	pol := testPolicy()
	g, in := approvalGate(t, &pol), gateInput(&pol)
	assert.Equal(t, api.OutcomeAccepted, judgeAndSign(g, decision("a1", "carol", api.VerdictApprove), in).Outcome)
	assert.Equal(t, api.GateOpen, g.state, "1 of 2")
	assert.Equal(t, api.OutcomeAccepted, judgeAndSign(g, decision("a2", "dave", api.VerdictApprove), in).Outcome)
	assert.Equal(t, api.GateApproved, g.state)
	assert.Equal(t, []string{"carol", "dave"}, g.signerIDs())
}

func TestGateRejectedByOneRejection(t *testing.T) {
	pol := testPolicy()
	g := approvalGate(t, &pol)
	assert.Equal(t, api.GateRejected, g.sign(decision("a1", "carol", api.VerdictReject), t0))
	assert.Equal(t, 0, g.approvals())
}

func TestGateRefusesADuplicateSigner(t *testing.T) {
	pol := testPolicy()
	g, in := approvalGate(t, &pol), gateInput(&pol)
	judgeAndSign(g, decision("a1", "carol", api.VerdictApprove), in)
	o := judgeAndSign(g, decision("a1-again", "carol", api.VerdictApprove), in)
	assert.Equal(t, api.OutcomeRefused, o.Outcome)
	assert.Equal(t, policy.RuleAlreadySigned, o.Rule)
	assert.Equal(t, api.GateOpen, g.state, "a duplicate does not count toward the quorum")
	assert.Len(t, g.signed, 1)
}

func TestGateRefusesWhenClosedCancelledOrAnother(t *testing.T) {
	pol := testPolicy()
	in := gateInput(&pol)
	decided := approvalGate(t, &pol)
	decided.state = api.GateApproved
	for _, c := range []struct {
		g      *gate
		d      api.Decision
		in     judgeInput
		reason string
	}{
		{decided, decision("x", "carol", api.VerdictApprove), in, "gate approval is approved"},
		{approvalGate(t, &pol), decision("x", "carol", api.VerdictApprove), judgeInput{pol: &pol, cancelled: true}, "gate approval is open"},
		{approvalGate(t, &pol), api.Decision{Gate: policy.GateReview, Identity: "bob", Verdict: api.VerdictApprove}, in,
			"gate review is not open; the open gate is approval"},
		{nil, decision("x", "carol", api.VerdictApprove), in, "gate approval is not open (release is awaiting_approval)"},
	} {
		o := c.g.judge(c.d, c.in)
		assert.Equal(t, api.OutcomeGateClosed, o.Outcome, c.reason)
		assert.Equal(t, api.RuleGateClosed, o.Rule)
		assert.Equal(t, c.reason, o.Reason)
	}
}

func TestGateRefusesABadVerdictBeforeAnything(t *testing.T) {
	pol := testPolicy()
	var none *gate // even with no gate open, the verdict is judged first
	o := none.judge(decision("x", "carol", "maybe"), gateInput(&pol))
	assert.Equal(t, api.OutcomeRefused, o.Outcome)
	assert.Equal(t, api.RuleBadVerdict, o.Rule)
}

func TestGateRefusesARejectionWithoutAComment(t *testing.T) {
	pol := testPolicy()
	g, in := approvalGate(t, &pol), gateInput(&pol)
	d := decision("r", "carol", api.VerdictReject)
	d.Comment = ""
	o := g.judge(d, in)
	assert.Equal(t, policy.RuleCommentMissing, o.Rule)
	assert.Equal(t, api.OutcomeRefused, o.Outcome)
}

func TestGateAwaitingFollowsItsSigners(t *testing.T) {
	pol := testPolicy()
	g, in := approvalGate(t, &pol), gateInput(&pol)
	assert.Nil(t, g.whoMaySign(), "not computed before the first state change")
	g.refreshAwaiting(&pol, in.facts)
	assert.Equal(t, []string{"carol", "dave"}, g.whoMaySign()) // not the author, requester or earlier signer
	g.sign(decision("a1", "carol", api.VerdictApprove), t0)
	g.refreshAwaiting(&pol, in.facts)
	assert.Equal(t, []string{"dave"}, g.whoMaySign())
	g.sign(decision("a2", "dave", api.VerdictApprove), t0)
	g.refreshAwaiting(&pol, in.facts)
	assert.Empty(t, g.whoMaySign(), "nobody once the gate is decided")
	var none *gate
	assert.Nil(t, none.whoMaySign())
}

func TestGateAwaitingDependsOnTheTime(t *testing.T) {
	pol := testPolicy()
	rule := pol.Environments["prod"].Gates[policy.GateApproval]
	rule.Freeze = []policy.Window{{Start: t0, End: t0.Add(time.Hour)}}
	pol.Environments["prod"].Gates[policy.GateApproval] = rule
	g, in := approvalGate(t, &pol), gateInput(&pol)
	g.refreshAwaiting(&pol, in.facts)
	assert.Empty(t, g.whoMaySign(), "frozen")
	in.facts.Now = t0.Add(time.Hour)
	g.refreshAwaiting(&pol, in.facts)
	assert.Equal(t, []string{"carol", "dave"}, g.whoMaySign())
}

// The follow-up gate asks the review gate's rule, and who signed the
// emergency's gates may not sign it.
func TestFollowUpGateIsJudgedAsAReview(t *testing.T) {
	pol := testPolicy()
	g := &gate{name: api.GateFollowUp, state: api.GateOpen, signed: []api.Signer{{Identity: "x"}}}
	c := g.check(gateInput(&pol).facts, "bob")
	assert.Equal(t, policy.GateReview, c.Gate)
	assert.Equal(t, []string{"bob"}, c.Earlier)
	assert.Equal(t, []string{"x"}, c.Signed)
	assert.Equal(t, "bob", c.Identity)
}

// Each gate keeps the outcomes of the decisions that named it; the release
// keeps those that named no gate it opened. A request id's first outcome
// stands whichever gate it named later.
func TestOutcomesAreKeptByTheGateTheyNamed(t *testing.T) {
	review := &gate{name: policy.GateReview}
	approval := &gate{name: policy.GateApproval}
	r := &gates{all: []*gate{review, approval}, misdirected: map[string]api.DecisionOutcome{}}
	r.keep(api.DecisionOutcome{RequestID: "r1", Gate: policy.GateReview, Outcome: api.OutcomeAccepted})
	r.keep(api.DecisionOutcome{RequestID: "x", Gate: "nonsense", Outcome: api.OutcomeGateClosed})
	assert.Contains(t, review.outcomes, "r1")
	assert.Empty(t, approval.outcomes)
	assert.Contains(t, r.misdirected, "x")
	for id, gate := range map[string]string{"r1": policy.GateReview, "x": "nonsense"} {
		o, ok := r.outcome(id)
		assert.True(t, ok)
		assert.Equal(t, gate, o.Gate)
	}
	_, ok := r.outcome("never")
	assert.False(t, ok)
}
