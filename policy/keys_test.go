package policy

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/testkeys"
)

func withKeys(lines string) string { return testYAML + "keys:\n" + lines }

func TestKeysAreCheckedWhenListed(t *testing.T) {
	build, review := testkeys.Public(attest.RoleBuild), testkeys.Public(attest.RoleReview)
	cases := []struct{ name, yaml, want string }{
		{"unknown role", withKeys("  admin: [\"" + build + "\"]\n"), `policy.yaml: keys.admin: unknown signing role "admin"`},
		{"not a key", withKeys("  build: [\"ssh-ed25519 AAAA\"]\n"), "policy.yaml: keys.build[0]: want \"ed25519:\""},
		{"short key", withKeys("  build: [\"ed25519:AAAA\"]\n"), "policy.yaml: keys.build[0]: an Ed25519 public key has 32 bytes"},
		{"one key for two roles", withKeys("  build: [\"" + build + "\"]\n  review: [\"" + build + "\"]\n"),
			"policy.yaml: keys.review[0]: key already listed for the build role"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("policy.yaml", []byte(c.yaml))
			require.ErrorContains(t, err, c.want)
		})
	}
	p, err := Parse("policy.yaml", []byte(withKeys("  build: [\""+build+"\"]\n  review: [\""+review+"\"]\n")))
	require.NoError(t, err)
	require.ErrorContains(t, p.RequireKeys("policy.yaml"), "policy.yaml: keys.orchestrator: is required")
}

func TestRequireKeysAndKeyRing(t *testing.T) {
	p, err := Parse("policy.yaml", []byte(testYAML))
	require.NoError(t, err)
	p.Keys = testkeys.PolicyKeys()
	require.NoError(t, p.RequireKeys("policy.yaml"))
	ring, err := p.KeyRing()
	require.NoError(t, err)
	for _, role := range attest.Roles {
		require.True(t, ring.Has(role), role)
	}
	delete(p.Keys, attest.RoleDeploy)
	require.ErrorContains(t, p.RequireKeys("policy.yaml"), "keys.deploy: is required: the public key of the deploy role")
}
