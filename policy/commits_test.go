package policy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/internal/demokeys"
)

const baselineSHA = "0123456789abcdef0123456789abcdef01234567"

// commitsYAML is sourcesYAML with signed commits in prod, a baseline for
// ledger and alice's and bob's SSH keys.
func commitsYAML(t *testing.T) string {
	t.Helper()
	text := sourcesYAML(t)
	for _, r := range []struct{ old, new string }{
		{"  prod:\n", "  prod:\n    commits: signed\n"},
		{"    repository: repos/ledger\n", "    repository: repos/ledger\n    commits: any\n    baseline: " + baselineSHA + "\n"},
		{"    email: alice@example.com\n", "    email: alice@example.com\n    ssh: [\"" + demokeys.AuthorizedKey("alice") + "\"]\n"},
		{"    email: bob@example.com\n", "    email: bob@example.com\n    ssh: [\"" + demokeys.AuthorizedKey("bob") + "\"]\n"},
	} {
		require.Equal(t, 1, strings.Count(text, r.old), r.old)
		text = strings.Replace(text, r.old, r.new, 1)
	}
	return text
}

func TestParseCommitSettings(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(commitsYAML(t)))
	require.NoError(t, err)
	assert.True(t, p.CommitsMustBeSigned("payments", "prod"))
	assert.True(t, p.CommitsMustBeSigned("ledger", "prod"), "the environment's signed wins over the service's any")
	assert.Equal(t, baselineSHA, p.Baseline("ledger"))
	assert.Empty(t, p.Baseline("payments"), "no baseline: the whole history")

	staging, err := Parse("policy.yaml", []byte(strings.Replace(commitsYAML(t), "    commits: any\n", "    commits: signed\n", 1)))
	require.NoError(t, err)
	staging.Environments["staging"] = Environment{Gates: staging.Environments["prod"].Gates}
	assert.True(t, staging.CommitsMustBeSigned("ledger", "staging"), "the service's signed wins over the environment's default")
	assert.False(t, staging.CommitsMustBeSigned("payments", "staging"), "any is the default")
}

func TestParseCommitSettingErrors(t *testing.T) {
	base := commitsYAML(t)
	m := func(old, new string) string {
		require.Equal(t, 1, strings.Count(base, old), "mutation target %q must occur once", old)
		return strings.Replace(base, old, new, 1)
	}
	cases := []struct{ name, yaml, want string }{
		{"bad environment setting", m("commits: signed", "commits: verified"), `policy.yaml: environments.prod.commits: must be any or signed (got "verified"; default any) (line`},
		{"bad service setting", m("commits: any", "commits: gpg"), `policy.yaml: services.ledger.commits: must be any or signed (got "gpg"; default any) (line`},
		{"short baseline", m(baselineSHA, baselineSHA[:7]), `policy.yaml: services.ledger.baseline: "0123456" is not a full commit SHA (40 or 64 lowercase hex): a baseline is the exact commit the service was reviewed at (line`},
		{"branch as baseline", m(baselineSHA, "main"), `services.ledger.baseline: "main" is not a full commit SHA`},
		{"unknown field", m("    commits: any\n", "    commit: any\n"), "policy.yaml: services.ledger.commit: unknown field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse("policy.yaml", []byte(tc.yaml))
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestAllowedSignersAndCommitSigner(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(commitsYAML(t)))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(p.AllowedSigners()), "\n")
	require.Len(t, lines, 2)
	assert.True(t, strings.HasPrefix(lines[0], `alice@example.com namespaces="git" ssh-ed25519 AAAA`), lines[0])
	assert.True(t, strings.HasPrefix(lines[1], `bob@example.com namespaces="git" ssh-ed25519 AAAA`), lines[1])

	id, ok := p.CommitSigner(demokeys.Signer("bob").PublicKey())
	assert.True(t, ok)
	assert.Equal(t, "bob", id)
	_, ok = p.CommitSigner(demokeys.Signer("carol").PublicKey())
	assert.False(t, ok, "carol lists no key here")
}

func TestApproversLeft(t *testing.T) {
	p := testPolicy(t) // prod approval: 2 of owners (alice, carol, scan-bot does not count) or dave
	assert.NoError(t, p.ApproversLeft("prod", []string{"alice"}, "rita"), "carol and dave remain")
	err := p.ApproversLeft("prod", []string{"alice", "dave"}, "rita")
	require.Error(t, err)
	assert.Equal(t, `the change's authors (alice, dave) and the requester "rita" leave 1 eligible signer(s) [carol] at the approval gate of prod, which needs 2: nobody else may approve it`, err.Error())
	err = p.ApproversLeft("prod", []string{"bob"}, "carol")
	assert.NoError(t, err, "ci-bot counts at the review gate")
}

func TestSignerIsToldSo(t *testing.T) {
	p := testPolicy(t)
	c := Check{Environment: "prod", Gate: GateApproval, Identity: "carol", Authors: []string{"alice", "carol"},
		Signers: []string{"carol"}, Requester: "rita", Now: date("2026-01-05T00:00:00Z")}
	v := p.Decide(c)
	assert.False(t, v.Allowed)
	assert.Equal(t, RuleAuthor, v.Rule)
	assert.Equal(t, "you signed a commit of this change", v.Reason)
	c.Identity = "alice"
	assert.Equal(t, "you authored this change", p.Decide(c).Reason)
}
