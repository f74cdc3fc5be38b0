package judge

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/testkeys"
	"github.com/foureyes/foureyes/policy"
)

const testPolicy = `version: 1
service_identities: [foureyes-build, foureyes-review]
release_managers: [rm]
humans:
  - {id: alice, email: alice@example.com, groups: [owners]}
  - {id: bob, email: bob@example.com, groups: [reviewers]}
  - {id: frank, email: frank@example.com, groups: [reviewers]}
  - {id: carol, email: carol@example.com, groups: [owners]}
  - {id: dave, email: dave@example.com, groups: [owners]}
  - {id: rita, email: rita@example.com, groups: [rm, owners]}
environments:
  prod:
    services_without_repository: allow
    gates:
      review: {groups: [reviewers], quorum: 1, deadline: 24h}
      approval: {groups: [owners], quorum: 2, deadline: 24h}
`

func newJudge(t *testing.T) (*Judge, Release) { return judgeOf(t, testPolicy) }

// judgeOf is the judge of policy text y with the test keys of every role,
// and a release under it.
func judgeOf(t *testing.T, y string) (*Judge, Release) {
	var b strings.Builder
	b.WriteString(y + "keys:\n")
	for _, role := range attest.Roles {
		fmt.Fprintf(&b, "  %s: [%q]\n", role, testkeys.Public(role))
	}
	p, err := policy.Parse("policy.yaml", []byte(b.String()))
	require.NoError(t, err)
	j, err := New(p)
	require.NoError(t, err)
	return j, Release{ID: "rel-1", RunID: "run-1", Service: "web", Environment: "prod", Commit: strings.Repeat("c", 40),
		Digest: strings.Repeat("d", 64), PolicyHash: policy.HashBytes([]byte(b.String()))}
}

var facts = Facts{Authors: []string{"alice"}, Requester: "rita", Comments: true, Executors: []string{"foureyes-build@h", "foureyes-review@h"}}

// decide is who's verdict at gate, signed by the approval role for rel.
func decide(t *testing.T, rel Release, gate, who, verdict string) Request {
	d := attest.Decision{Binding: rel.Binding(), Scope: rel.Scope(), RequestID: who + "/" + gate, Gate: gate, Verdict: verdict,
		Identity: who, Channel: "api", Comment: "because", At: time.Now().UTC()}
	env, err := testkeys.Signer(attest.RoleApproval).Attest(attest.ArtifactSubject(rel.Digest), attest.PredicateDecision, d)
	require.NoError(t, err)
	return Request{Kind: api.UpdateDecide, Envelope: env}
}

func cancel(t *testing.T, rel Release, who string) Request {
	c := attest.Cancel{Binding: rel.Binding(), Scope: rel.Scope(), RequestID: who + "/cancel", Identity: who, Reason: "stop"}
	env, err := testkeys.Signer(attest.RoleApproval).Attest(attest.ReleaseSubject(rel.ID), attest.PredicateCancel, c)
	require.NoError(t, err)
	return Request{Kind: api.UpdateCancel, Envelope: env}
}

// TestReplay: the gates replayed over a release's requests in order.
func TestReplay(t *testing.T) {
	j, rel := newJudge(t)
	other := rel
	other.RunID = "run-2"
	cases := map[string]struct {
		reqs []Request
		want string // "" when every gate passed
	}{
		"bob, then carol and dave": {[]Request{decide(t, rel, "review", "bob", "approve"), decide(t, rel, "approval", "carol", "approve"),
			decide(t, rel, "approval", "dave", "approve")}, ""},
		"alice's refused approval never counts": {[]Request{decide(t, rel, "review", "bob", "approve"), decide(t, rel, "approval", "alice", "approve"),
			decide(t, rel, "approval", "dave", "approve")}, "not counted: alice (you authored this change)"},
		"an approval before its gate opened": {[]Request{decide(t, rel, "approval", "carol", "approve"), decide(t, rel, "review", "bob", "approve"),
			decide(t, rel, "approval", "dave", "approve")}, "approval gate: quorum not met: 1 approvals counted [dave]"},
		"a reviewer signs the approval gate too": {[]Request{decide(t, rel, "review", "rita", "approve"), decide(t, rel, "approval", "rita", "approve"),
			decide(t, rel, "approval", "dave", "approve")}, "not counted: rita (you requested this release)"},
		"decisions of another run": {[]Request{decide(t, other, "review", "bob", "approve")}, `scoped to web in prod (run "run-2")`},
		"a rejection":              {[]Request{decide(t, rel, "review", "bob", "reject")}, "review gate rejected by bob"},
		"a cancel by the requester": {[]Request{decide(t, rel, "review", "bob", "approve"), cancel(t, rel, "rita"),
			decide(t, rel, "approval", "carol", "approve"), decide(t, rel, "approval", "dave", "approve")}, "cancelled by rita"},
		"a cancel by someone who may not": {[]Request{cancel(t, rel, "dave"), decide(t, rel, "review", "bob", "approve"),
			decide(t, rel, "approval", "carol", "approve"), decide(t, rel, "approval", "frank", "approve")}, "not counted: frank (not in owners)"},
	}
	for name, c := range cases {
		err := j.Replay(rel, facts, c.reqs).Passed()
		if c.want == "" {
			assert.NoError(t, err, name)
			continue
		}
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), c.want, name)
		}
	}
}

// TestSecondCancel: a cancel after a counted one does not count again.
func TestSecondCancel(t *testing.T) {
	j, rel := newJudge(t)
	g := j.Replay(rel, facts, []Request{cancel(t, rel, "rita"), cancel(t, rel, "rm")})
	require.Len(t, g.Outcomes, 2)
	assert.True(t, g.Outcomes[0].Counted)
	assert.False(t, g.Outcomes[1].Counted)
	assert.Equal(t, api.RuleAlreadyCancelling, g.Outcomes[1].Rule)
	assert.Equal(t, "cancelled by rita: stop", g.Cancelled)
}

// TestFollowUpIsNotSignedTwice: after an emergency's gates, the follow-up
// counts no one who signed an earlier gate.
func TestFollowUpIsNotSignedTwice(t *testing.T) {
	j, rel := newJudge(t)
	f := facts
	f.Declarer = "rm"
	g := j.Replay(rel, f, []Request{decide(t, rel, "review", "bob", "approve"), decide(t, rel, "approval", "carol", "approve"),
		decide(t, rel, "approval", "dave", "approve"), decide(t, rel, api.GateFollowUp, "bob", "approve"), decide(t, rel, api.GateFollowUp, "frank", "approve")})
	require.NoError(t, g.Passed())
	assert.False(t, g.Outcomes[3].Counted)
	assert.Equal(t, "you signed an earlier gate", g.Outcomes[3].Why)
	assert.True(t, g.Outcomes[4].Counted)
	assert.Equal(t, []string{"review", "approval", api.GateFollowUp}, g.Approved)
}

// TestAddedRuleReachesTheJudge: a rule added to the judge refuses where
// the policy allows, and goes away when removed.
func TestAddedRuleReachesTheJudge(t *testing.T) {
	j, rel := newJudge(t)
	reqs := []Request{decide(t, rel, "review", "bob", "approve"), decide(t, rel, "approval", "carol", "approve"), decide(t, rel, "approval", "dave", "approve")}
	require.NoError(t, j.Replay(rel, facts, reqs).Passed())
	remove := AddRule(NoDave)
	err := j.Replay(rel, facts, reqs).Passed()
	remove()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not counted: dave (dave may not approve (added rule))")
	require.NoError(t, j.Replay(rel, facts, reqs).Passed())
}

func TestPromotionNamesAnotherRelease(t *testing.T) {
	j, rel := newJudge(t)
	rel.Promotes = rel.ID
	_, err := j.Provenance(rel, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "names itself as the release it promotes")
}
