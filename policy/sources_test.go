package policy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sourcesYAML is testYAML with a services section, git_emails for alice
// and the environment's commit settings written out.
func sourcesYAML(t *testing.T) string {
	t.Helper()
	text := mutate(t, "environments:\n", `services:
  payments:
    repository: https://git.example.com/payments.git
    build: make release OUT="$FOUREYES_ARTIFACT_PATH"
  ledger:
    repository: repos/ledger
environments:
`)
	text = strings.Replace(text, "    email: alice@example.com\n",
		"    email: alice@example.com\n    git_emails: [alice@users.noreply.example.com, Alice.Work@Example.com]\n", 1)
	return strings.Replace(text, "  prod:\n", "  prod:\n    unmapped_emails: block\n    services_without_repository: refuse\n", 1)
}

func TestParseSources(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(sourcesYAML(t)))
	require.NoError(t, err)
	s, ok := p.Service("payments")
	require.True(t, ok)
	assert.Equal(t, "https://git.example.com/payments.git", s.Repository)
	assert.Equal(t, `make release OUT="$FOUREYES_ARTIFACT_PATH"`, s.Build)
	_, ok = p.Service("billing")
	assert.False(t, ok, "an unlisted service has no repository")
	assert.False(t, p.AllowsUnmapped("prod"))
	assert.False(t, p.AllowsNoRepository("prod"))

	data, err := json.Marshal(p)
	require.NoError(t, err)
	q, err := Parse("policy.json", data)
	require.NoError(t, err)
	assert.Equal(t, p, q, "services and settings survive JSON")
}

func TestOldPolicyParsesWithDefaults(t *testing.T) {
	p := testPolicy(t) // no services, no settings
	assert.Nil(t, p.Services)
	assert.False(t, p.AllowsUnmapped("prod"), "unmapped emails block by default")
	assert.False(t, p.AllowsNoRepository("prod"), "services without a repository are refused by default")
}

func TestParseSourceErrors(t *testing.T) {
	base := sourcesYAML(t)
	m := func(old, new string) string {
		require.Equal(t, 1, strings.Count(base, old), "mutation target %q must occur once", old)
		return strings.Replace(base, old, new, 1)
	}
	cases := []struct{ name, yaml, want string }{
		{"bad service name", m("  ledger:\n", "  Ledger_1:\n"), `policy.yaml: services.Ledger_1: "Ledger_1" is not a valid service name`},
		{"missing repository", m("    repository: repos/ledger\n", "    build: make\n"), "policy.yaml: services.ledger.repository: is required: the service's git repository (URL or path)"},
		{"empty repository", m("repository: repos/ledger", `repository: ""`), "policy.yaml: services.ledger.repository: must not be empty"},
		{"repository with space", m("repository: repos/ledger", `repository: "repos/my ledger"`), "services.ledger.repository: must be one word of printable text"},
		{"repository as option", m("repository: repos/ledger", "repository: --upload-pack=touch"), `services.ledger.repository: "--upload-pack=touch" may not start with '-'`},
		{"remote helper", m("repository: repos/ledger", "repository: ext::sh -c touch% /tmp/x"), "services.ledger.repository: must be one word"},
		{"remote helper one word", m("repository: repos/ledger", "repository: fd::17"), `services.ledger.repository: "fd::17": remote helpers (TRANSPORT::ADDRESS) are not allowed`},
		{"unknown scheme", m("repository: repos/ledger", "repository: ftp://x/ledger.git"), `services.ledger.repository: unsupported scheme "ftp" (want https, http, ssh, git, file, user@host:path or a path)`},
		{"blank build", m("    build: make release OUT=\"$FOUREYES_ARTIFACT_PATH\"\n", "    build: \"  \"\n"), "policy.yaml: services.payments.build: must not be blank"},
		{"unknown service field", m("    repository: repos/ledger\n", "    repository: repos/ledger\n    branch: main\n"), "policy.yaml: services.ledger.branch: unknown field"},
		{"bad unmapped setting", m("unmapped_emails: block", "unmapped_emails: warn"), `policy.yaml: environments.prod.unmapped_emails: must be block or allow (got "warn"; default block)`},
		{"bad no-repository setting", m("services_without_repository: refuse", "services_without_repository: yes"), `environments.prod.services_without_repository: must be refuse or allow (got "yes"; default refuse)`},
		{"email of two people", m("    email: bob@example.com\n", "    email: ALICE@example.com\n"), `policy.yaml: humans[1].email: email "ALICE@example.com" already belongs to "alice": commits must map to one identity`},
		{"git email of another", m("Alice.Work@Example.com]", "carol@example.com]"), `policy.yaml: humans[2].email: email "carol@example.com" already belongs to "alice"`},
		{"bad git email", m("Alice.Work@Example.com]", "alice]"), `policy.yaml: humans[0].git_emails[1]: "alice" is not an email address`},
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

func TestIdentityForEmail(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(sourcesYAML(t)))
	require.NoError(t, err)
	for email, want := range map[string]string{
		"alice@example.com": "alice", "ALICE@EXAMPLE.COM": "alice", "alice.work@example.com": "alice",
		"alice@users.noreply.example.com": "alice", "erin@example.com": "erin", "nobody@example.com": "", "": "",
	} {
		id, ok := p.IdentityForEmail(email)
		assert.Equal(t, want, id, email)
		assert.Equal(t, want != "", ok, email)
	}
	ids, unmapped := p.MapEmails([]string{"erin@example.com", "zed@x.org", "alice@example.com", "Alice.Work@example.com", "zed@x.org", "a@b"})
	assert.Equal(t, []string{"alice", "erin"}, ids)
	assert.Equal(t, []string{"a@b", "zed@x.org"}, unmapped)
}

func TestUnmappedEmailBlocksApprovals(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(sourcesYAML(t)))
	require.NoError(t, err)
	c := Check{Environment: "prod", Gate: GateApproval, Identity: "carol", Authors: []string{"alice"},
		Requester: "rita", Unmapped: []string{"zed@x.org"}, Now: date("2026-01-05T00:00:00Z")}
	v := p.Decide(c)
	assert.False(t, v.Allowed)
	assert.Equal(t, RuleUnmappedEmail, v.Rule)
	assert.Equal(t, `the change has commits by "zed@x.org", which maps to no identity of the policy (fail closed: unmapped_emails is block in prod)`, v.Reason)
	assert.Empty(t, p.Awaiting(c), "nobody may approve")

	c.Gate, c.Identity = GateReview, "bob"
	assert.False(t, p.Decide(c).Allowed, "the review gate too")

	c.Reject = true
	assert.True(t, p.Decide(c).Allowed, "a no is always possible")

	c.Reject, c.Identity, c.Gate = false, "alice", GateApproval
	assert.Equal(t, "you authored this change", p.Decide(c).Reason, "the author rule speaks first")

	c.Identity, c.Unmapped = "carol", []string{"a@b", "zed@x.org"}
	assert.Contains(t, p.Decide(c).Reason, `"a@b", "zed@x.org", which map to no identity`)

	allow, err := Parse("policy.yaml", []byte(strings.Replace(sourcesYAML(t), "unmapped_emails: block", "unmapped_emails: allow", 1)))
	require.NoError(t, err)
	assert.True(t, allow.Decide(c).Allowed, "unmapped_emails: allow lets approvals through")
}
