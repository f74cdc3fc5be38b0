package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/internal/demotokens"
)

func TestIdentityForToken(t *testing.T) {
	p := testPolicy(t)
	cases := []struct {
		token, id string
		ok        bool
	}{
		{aliceToken, "alice", true},
		{botToken, "ci-bot", true},
		{scanToken, "scan-bot", true},
		{"alice-token ", "", false},
		{"wrong", "", false},
		{"", "", false},                            // humans without a token must not match an empty one
		{HashBytes([]byte(aliceToken)), "", false}, // the hash is not the token
	}
	for _, tc := range cases {
		id, ok := p.IdentityForToken(tc.token)
		assert.Equal(t, tc.ok, ok, tc.token)
		assert.Equal(t, tc.id, id, tc.token)
	}
}

func TestIdentityForSlack(t *testing.T) {
	p := testPolicy(t)
	id, ok := p.IdentityForSlack("U0CAROL01")
	assert.True(t, ok)
	assert.Equal(t, "carol", id)
	_, ok = p.IdentityForSlack("U0NOBODY1")
	assert.False(t, ok)
	_, ok = p.IdentityForSlack("") // bob has no Slack id
	assert.False(t, ok)
}

func TestDemoPolicy(t *testing.T) {
	p, hash, err := Load("../deployments/policy.yaml")
	require.NoError(t, err)
	assert.Len(t, hash, 64)
	tokens, err := demotokens.Read("..") // FOUREYES_DEMO_TOKEN_CI_BOT -> ci-bot
	require.NoError(t, err)
	require.Len(t, tokens, len(p.Humans)+len(p.Bots), "one demo token per identity")
	for id, token := range tokens {
		got, ok := p.IdentityForToken(token)
		assert.True(t, ok, id)
		assert.Equal(t, id, got)
	}
	for _, id := range []string{"foureyes-orchestrator", "foureyes-build", "foureyes-review", "foureyes-approval", "foureyes-deploy"} {
		assert.Contains(t, p.ServiceIdentities, id)
	}
	assert.True(t, p.IsReleaseManager("rita"))
}

// The demo: alice authors a change; her own prod approval is refused while
// carol and dave may approve.
func TestDemoScenario(t *testing.T) {
	p, _, err := Load("../deployments/policy.yaml")
	require.NoError(t, err)
	c := Check{Environment: "prod", Gate: GateApproval, Authors: []string{"alice"},
		Requester: "rita", Earlier: []string{"bob"}, Now: date("2026-02-01T00:00:00Z")}
	c.Identity = "alice"
	assert.Equal(t, Verdict{Rule: RuleAuthor, Reason: "you authored this change"}, p.Decide(c))
	assert.Equal(t, []string{"carol", "dave"}, p.Awaiting(c))
	c.Gate, c.Earlier = GateReview, nil
	assert.Equal(t, []string{"bob", "ci-bot"}, p.Awaiting(c))
	c.Environment, c.Gate = "staging", GateApproval // carol joined staging-owners with the promotion demo
	assert.Equal(t, []string{"carol", "erin"}, p.Awaiting(c))
	_, frozen := p.Frozen("prod", GateApproval, date("2025-12-25T00:00:00Z"))
	assert.True(t, frozen)
}
