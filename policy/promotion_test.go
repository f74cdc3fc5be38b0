package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stagedYAML adds a staging environment to testYAML and makes prod require
// what staging verified for 30m, with break-glass allowed.
func stagedYAML(t *testing.T, requires, emergency string) string {
	t.Helper()
	staging := "  staging:\n    gates:\n      review:\n        groups: [reviewers]\n        quorum: 1\n        deadline: 24h\n" +
		"      approval:\n        groups: [qa]\n        quorum: 1\n        deadline: 24h\n"
	return mutate(t, "environments:\n  prod:\n", "environments:\n"+staging+"  prod:\n"+requires+emergency)
}

const (
	requires30m = "    requires:\n      environment: staging\n      verified_for: 30m\n"
	emergencyOK = "    emergency:\n      slack_channel: \"#incidents\"\n      skip_requires: true\n      deadline: 2h\n"
)

func TestPromotionRuleParses(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(stagedYAML(t, requires30m, emergencyOK)))
	require.NoError(t, err)
	r, ok := p.Requirement("prod")
	require.True(t, ok)
	assert.Equal(t, Requirement{Environment: "staging", VerifiedFor: Duration(30 * time.Minute)}, r)
	_, ok = p.Requirement("staging")
	assert.False(t, ok)
	e, ok := p.EmergencyRule("prod")
	require.True(t, ok)
	assert.True(t, e.SkipRequires)
	assert.Equal(t, "#incidents", e.SlackChannel)
	_, ok = p.EmergencyRule("staging")
	assert.False(t, ok, "without an emergency section no release there can be an emergency")
}

func TestPromotionRuleErrors(t *testing.T) {
	cases := []struct{ name, requires, emergency, want string }{
		{"unknown environment", strings.Replace(requires30m, "staging", "qa", 1), "",
			`policy.yaml: environments.prod.requires.environment: unknown environment "qa"`},
		{"requires itself", strings.Replace(requires30m, "staging", "prod", 1), "",
			`environments.prod.requires.environment: "prod" requires itself`},
		{"no environment", "    requires:\n      verified_for: 30m\n", "", "environments.prod.requires.environment: is required"},
		{"no soak time", "    requires:\n      environment: staging\n", "", "environments.prod.requires.verified_for: must be positive"},
		{"bad soak time", strings.Replace(requires30m, "30m", "half an hour", 1), "",
			`environments.prod.requires.verified_for: must be a duration like "24h", got "half an hour"`},
		{"bad unmet", requires30m + "      unmet: shrug\n", "", `environments.prod.requires.unmet: must be refuse or wait (got "shrug"; default refuse)`},
		{"unknown requires field", requires30m + "      tested: true\n", "", "environments.prod.requires.tested: unknown field"},
		{"emergency without channel", requires30m, "    emergency:\n      skip_requires: true\n", "environments.prod.emergency.slack_channel: is required"},
		{"valid emergency", requires30m, emergencyOK, ""},
		{"emergency skips nothing", "", "    emergency:\n      slack_channel: \"#i\"\n      skip_requires: true\n",
			"environments.prod.emergency.skip_requires: environment prod has no promotion rule (requires) to skip"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("policy.yaml", []byte(stagedYAML(t, tc.requires, tc.emergency)))
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "(line ", "names the line")
		})
	}
}

func TestPromotionCycleIsRefused(t *testing.T) {
	y := stagedYAML(t, requires30m, "")
	y = strings.Replace(y, "  staging:\n", "  staging:\n    requires:\n      environment: prod\n      verified_for: 1m\n", 1)
	_, err := Parse("policy.yaml", []byte(y))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "promotion rules form a cycle (prod -> staging -> prod)")
}

// TestBreakGlassIsNeverOnePerson: an environment whose approval gate only
// one identity can sign cannot allow emergencies.
func TestBreakGlassIsNeverOnePerson(t *testing.T) {
	y := stagedYAML(t, "", "")
	y = strings.Replace(y, "  staging:\n", "  staging:\n    emergency:\n      slack_channel: \"#i\"\n", 1)
	_, err := Parse("policy.yaml", []byte(y))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "environments.staging.emergency: an emergency needs 2 distinct approvers, but only 1 identities may sign the approval gate (erin)")
	assert.Equal(t, 2, EmergencyQuorum(GateRule{Quorum: 1}))
	assert.Equal(t, 3, EmergencyQuorum(GateRule{Quorum: 3}))
}

func TestEmergencyDeadlineOnlyShortens(t *testing.T) {
	r := GateRule{Deadline: Duration(24 * time.Hour)}
	assert.Equal(t, 2*time.Hour, EmergencyDeadline(r, Emergency{Deadline: Duration(2 * time.Hour)}))
	assert.Equal(t, 24*time.Hour, EmergencyDeadline(r, Emergency{Deadline: Duration(48 * time.Hour)}))
	assert.Equal(t, 24*time.Hour, EmergencyDeadline(r, Emergency{}))
}

func TestRequirementJudge(t *testing.T) {
	r := Requirement{Environment: "staging", VerifiedFor: Duration(30 * time.Minute)}
	now := date("2026-03-02T10:00:00Z")
	digest, other := strings.Repeat("a", 64), strings.Repeat("b", 64)
	verified := func(ago time.Duration) *Deployment {
		return &Deployment{Digest: digest, Release: "rel-s", DeployedAt: now.Add(-ago - time.Minute), VerifiedAt: now.Add(-ago)}
	}
	cases := []struct {
		name string
		d    *Deployment
		want string
		left time.Duration
	}{
		{"never deployed to staging", nil, "sha256:aaaaaaaaaaaa was never deployed to staging", 0},
		{"a different digest in staging", &Deployment{Digest: other, Release: "rel-x", VerifiedAt: now.Add(-time.Hour)},
			"staging runs sha256:bbbbbbbbbbbb (release rel-x), not sha256:aaaaaaaaaaaa", 0},
		{"deployed but not verified", &Deployment{Digest: digest, Release: "rel-s", DeployedAt: now.Add(-time.Hour)},
			"is deployed to staging (release rel-s) but was not verified", 0},
		{"verified too recently", verified(10 * time.Minute), "verified in staging at 2026-03-02T09:50:00Z, 10m0s ago", 20 * time.Minute},
		{"verified long enough", verified(30 * time.Minute), "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := r.Judge(tc.d, digest, now)
			if tc.want == "" {
				assert.Equal(t, Judgement{Met: true}, j)
				return
			}
			assert.False(t, j.Met)
			assert.Contains(t, j.Reason, tc.want)
			assert.Contains(t, j.Reason, "takes only what staging verified for 30m0s")
			assert.Equal(t, tc.left, j.Left)
		})
	}
}

func TestCommentRules(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(mutate(t, "        slack_channel: \"#releases-prod\"\n",
		"        slack_channel: \"#releases-prod\"\n        comment_required: true\n")))
	require.NoError(t, err)
	assert.Equal(t, Verdict{Rule: RuleCommentMissing, Reason: "a rejection needs a comment: say why"},
		p.CheckComment("prod", GateReview, true, "  "))
	assert.True(t, p.CheckComment("prod", GateReview, false, "").Allowed, "review approvals need no comment here")
	v := p.CheckComment("prod", GateApproval, false, "")
	assert.Equal(t, RuleCommentMissing, v.Rule)
	assert.Contains(t, v.Reason, "needs a comment (comment_required)")
	assert.True(t, p.CheckComment("prod", GateApproval, false, "LGTM, checked the dashboards").Allowed)
	assert.True(t, p.CheckComment("prod", GateReview, true, "breaks the ledger").Allowed)
}

func TestDeclarerMayNotSign(t *testing.T) {
	p := testPolicy(t)
	c := Check{Environment: "prod", Gate: GateApproval, Identity: "carol", Authors: []string{"alice"},
		Requester: "rita", Declarer: "carol", Now: date("2026-01-05T00:00:00Z")}
	v := p.Decide(c)
	assert.Equal(t, Verdict{Rule: RuleDeclarer, Reason: "you declared this release an emergency"}, v)
	c.Declarer = ""
	assert.True(t, p.Decide(c).Allowed)
}
