package policy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
)

// okCheck is a prod approval by carol that every rule lets through.
func okCheck() Check {
	return Check{
		Environment: "prod", Gate: GateApproval, Identity: "carol",
		Authors: []string{"alice"}, Requester: "rita", Earlier: []string{"bob"},
		Executors: []string{"foureyes-build@h1", "foureyes-deploy@h2"},
		Now:       date("2026-01-10T12:00:00Z"),
	}
}

func TestDecide(t *testing.T) {
	p := testPolicy(t)
	cases := []struct {
		name   string
		change func(c *Check)
		allow  bool
		rule   api.Rule
		reason string
	}{
		{"allowed by group", func(c *Check) {}, true, "", "member of owners"},
		{"allowed by identity", func(c *Check) { c.Identity = "dave" }, true, "", "listed for this gate"},
		{"no environment", func(c *Check) { c.Environment = "staging" }, false, RuleNoRule, "no rule for gate approval in environment staging (fail closed)"},
		{"no gate", func(c *Check) { c.Gate = "deploy" }, false, RuleNoRule, "no rule for gate deploy in environment prod (fail closed)"},
		{"unknown identity", func(c *Check) { c.Identity = "zed" }, false, RuleUnknownIdentity, `unknown identity "zed"`},
		{"empty identity", func(c *Check) { c.Identity = "" }, false, RuleUnknownIdentity, `unknown identity ""`},
		{"service identity", func(c *Check) { c.Identity = "foureyes-build" }, false, RuleServiceIdentity, "service identity foureyes-build may never sign"},
		{"service worker identity", func(c *Check) { c.Identity = "foureyes-deploy@h2" }, false, RuleServiceIdentity, "service identity foureyes-deploy@h2 may never sign"},
		{"service prefix is not a service", func(c *Check) { c.Identity = "foureyes-builder" }, false, RuleUnknownIdentity, `unknown identity "foureyes-builder"`},
		{"executor", func(c *Check) { c.Executors = append(c.Executors, "carol") }, false, RuleRanAStage, "you ran a stage of this release (as carol)"},
		{"executor on a host", func(c *Check) { c.Executors = append(c.Executors, "carol@laptop") }, false, RuleRanAStage, "you ran a stage of this release (as carol@laptop)"},
		{"executor prefix only", func(c *Check) { c.Executors = append(c.Executors, "caroline@laptop") }, true, "", "member of owners"},
		{"author", func(c *Check) { c.Authors = []string{"bob", "carol"} }, false, RuleAuthor, "you authored this change"},
		{"requester", func(c *Check) { c.Requester = "carol" }, false, RuleRequester, "you requested this release"},
		{"earlier signer", func(c *Check) { c.Earlier = []string{"carol"} }, false, RuleEarlierSigner, "you signed an earlier gate (review)"},
		{"earlier signer at first gate", func(c *Check) { c.Gate, c.Identity, c.Earlier = GateReview, "bob", []string{"bob"} }, false, RuleEarlierSigner, "you signed an earlier gate"},
		{"already signed", func(c *Check) { c.Signed = []string{"alice", "carol"} }, false, RuleAlreadySigned, "you already signed this gate"},
		{"bot at a gate it may not answer", func(c *Check) { c.Identity = "ci-bot" }, false, RuleBotNotAllowed, "bot ci-bot may not answer the approval gate"},
		{"bots do not count", func(c *Check) { c.Identity = "scan-bot" }, false, RuleBotsDoNotCount, "bots do not count at this gate"},
		{"bot counts at review", func(c *Check) { c.Gate, c.Identity, c.Earlier = GateReview, "ci-bot", nil }, true, "", "member of reviewers"},
		{"not eligible by group", func(c *Check) { c.Gate, c.Identity, c.Earlier = GateReview, "carol", nil }, false, RuleNotEligible, "not in reviewers"},
		{"not eligible", func(c *Check) { c.Identity = "erin" }, false, RuleNotEligible, "not in owners and not listed for this gate"},
		{"freeze", func(c *Check) { c.Now = date("2025-12-25T08:00:00Z") }, false, RuleFreeze, "freeze window: holiday freeze until 2025-12-27T00:00:00Z"},
		{"freeze starts", func(c *Check) { c.Now = date("2025-12-24T00:00:00Z") }, false, RuleFreeze, "freeze window: holiday freeze until 2025-12-27T00:00:00Z"},
		{"reject inside freeze", func(c *Check) { c.Now, c.Reject = date("2025-12-25T08:00:00Z"), true }, true, "", "member of owners"},
		{"freeze ends", func(c *Check) { c.Now = date("2025-12-27T00:00:00Z") }, true, "", "member of owners"},
		{"freeze other zone", func(c *Check) { c.Now = date("2025-12-26T23:30:00-01:00") }, true, "", "member of owners"},
		{"freeze only at its gate", func(c *Check) {
			c.Gate, c.Identity, c.Earlier, c.Now = GateReview, "bob", nil, date("2025-12-25T08:00:00Z")
		}, true, "", "member of reviewers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := okCheck()
			tc.change(&c)
			assert.Equal(t, Verdict{Allowed: tc.allow, Rule: tc.rule, Reason: tc.reason}, p.Decide(c))
		})
	}
}

// The first failing rule gives the reason.
func TestDecideOrder(t *testing.T) {
	p := testPolicy(t)
	c := okCheck()
	c.Identity = "alice"
	c.Requester, c.Earlier, c.Signed = "alice", []string{"alice"}, []string{"alice"}
	c.Executors = []string{"alice@h"}
	c.Now = date("2025-12-25T00:00:00Z")
	reasons := []string{
		"you ran a stage of this release (as alice@h)",
		"you authored this change",
		"you requested this release",
		"you signed an earlier gate (review)",
		"you already signed this gate",
		"freeze window: holiday freeze until 2025-12-27T00:00:00Z",
	}
	clear := []func(){
		func() { c.Executors = nil },
		func() { c.Authors = nil },
		func() { c.Requester = "" },
		func() { c.Earlier = nil },
		func() { c.Signed = nil },
		func() { c.Now = time.Time{} },
	}
	for i, want := range reasons {
		assert.Equal(t, want, p.Decide(c).Reason)
		clear[i]()
	}
	assert.True(t, p.Decide(c).Allowed)
}

func TestExplain(t *testing.T) {
	p := testPolicy(t)
	c := okCheck()
	c.Identity = "ignored"
	c.Signed = []string{"dave"}
	got := p.Explain(c)
	want := []api.Eligibility{
		{Identity: "alice", Kind: "human", Eligible: false, Rule: RuleAuthor, Reason: "you authored this change"},
		{Identity: "bob", Kind: "human", Eligible: false, Rule: RuleEarlierSigner, Reason: "you signed an earlier gate (review)"},
		{Identity: "carol", Kind: "human", Eligible: true, Rule: "", Reason: "member of owners"},
		{Identity: "ci-bot", Kind: "bot", Eligible: false, Rule: RuleBotNotAllowed, Reason: "bot ci-bot may not answer the approval gate"},
		{Identity: "dave", Kind: "human", Eligible: false, Rule: RuleAlreadySigned, Reason: "you already signed this gate"},
		{Identity: "erin", Kind: "human", Eligible: false, Rule: RuleNotEligible, Reason: "not in owners and not listed for this gate"},
		{Identity: "rita", Kind: "human", Eligible: false, Rule: RuleRequester, Reason: "you requested this release"},
		{Identity: "scan-bot", Kind: "bot", Eligible: false, Rule: RuleBotsDoNotCount, Reason: "bots do not count at this gate"},
	}
	assert.Equal(t, want, got)
	assert.Equal(t, []string{"carol"}, p.Awaiting(c))
}

func TestExplainDeterministic(t *testing.T) {
	p := testPolicy(t)
	c := okCheck()
	c.Gate = GateReview
	c.Earlier = nil
	first := p.Explain(c)
	for range 20 {
		require.Equal(t, first, p.Explain(c))
	}
	assert.Equal(t, []string{"bob", "ci-bot"}, p.Awaiting(c))
}

func TestAwaitingNoneIsEmpty(t *testing.T) {
	p := testPolicy(t)
	c := okCheck()
	c.Environment = "staging"
	got := p.Awaiting(c)
	assert.NotNil(t, got)
	assert.Empty(t, got)
}

func TestFrozen(t *testing.T) {
	p := testPolicy(t)
	w, ok := p.Frozen("prod", GateApproval, date("2025-12-25T00:00:00Z"))
	require.True(t, ok)
	assert.Equal(t, "holiday freeze", w.Reason)
	_, ok = p.Frozen("prod", GateApproval, date("2025-12-28T00:00:00Z"))
	assert.False(t, ok)
	_, ok = p.Frozen("prod", GateReview, date("2025-12-25T00:00:00Z"))
	assert.False(t, ok)
	_, ok = p.Frozen("staging", GateApproval, date("2025-12-25T00:00:00Z"))
	assert.False(t, ok)
}

func TestFrozenOverlapEndsLast(t *testing.T) {
	text := mutate(t, "            reason: holiday freeze\n",
		"            reason: holiday freeze\n          - {start: 2025-12-20T00:00:00Z, end: 2026-01-02T00:00:00Z, reason: year end}\n")
	p, err := Parse("policy.yaml", []byte(text))
	require.NoError(t, err)
	w, ok := p.Frozen("prod", GateApproval, date("2025-12-25T00:00:00Z"))
	require.True(t, ok)
	assert.Equal(t, "year end", w.Reason)
}

func TestRule(t *testing.T) {
	p := testPolicy(t)
	r, ok := p.Rule("prod", GateReview)
	require.True(t, ok)
	assert.Equal(t, []string{"reviewers"}, r.Groups)
	assert.True(t, r.BotsCount)
	_, ok = p.Rule("prod", "deploy")
	assert.False(t, ok)
	_, ok = p.Rule("dev", GateReview)
	assert.False(t, ok)
}

func TestKnownAndReleaseManager(t *testing.T) {
	p := testPolicy(t)
	assert.True(t, p.Known("alice"))
	assert.True(t, p.Known("ci-bot"))
	assert.False(t, p.Known("foureyes-build"))
	assert.False(t, p.Known("zed"))
	assert.True(t, p.IsReleaseManager("rita"))
	assert.False(t, p.IsReleaseManager("alice"))
	assert.False(t, p.IsReleaseManager("zed"))
}

// Every code is distinct, and each is a metric label value dashboards
// already use (or a new one): renaming one breaks them.
func TestRuleCodesAreStableLabels(t *testing.T) {
	want := []string{"no_rule", "unknown_identity", "service_identity", "ran_a_stage", "author", "unmapped_email",
		"requester", "declarer", "earlier_signer", "already_signed", "bot_not_allowed", "bots_do_not_count",
		"not_eligible", "freeze", "comment_missing"}
	var got []string
	for _, r := range Rules {
		got = append(got, string(r))
	}
	assert.Equal(t, want, got)
}
