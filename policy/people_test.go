package policy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/internal/demokeys"
)

const (
	rsaKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDFFrvW3fTLhj+Yg/ri/0j7ZLpDwDmDFrhbKK0gY3rpAGeYD4DaJTKcv9NjSL+fkgUwsqWRgQ2zTjE0W3rKz+VwohwuU2l9bGdTqWkOQh6Rb+XHkyRA5z3zPGhh4+n4Ggb4yt2/gx6VhjWRXg9gDaYHNBuwP9kMDKpY9fDPF+BqOQ== rsa@old"
	// A FIDO security key (sk-ssh-ed25519@openssh.com).
	skKey = "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIEX/dQ0v4127bEo8eeG1EV0ApO2lWbSnN6RWusn/NjqIAAAABHNzaDo= sk@demo"
)

func TestPeopleKeysParse(t *testing.T) {
	y := mutate(t, "    groups: [reviewers]\n  - id: carol", `    groups: [reviewers]
    ssh: ["`+demokeys.AuthorizedKey("bob")+`", "`+skKey+`"]
  - id: carol`)
	p, err := Parse("policy.yaml", []byte(y))
	require.NoError(t, err)
	require.Len(t, p.SSHKeys("bob"), 2)
	id, ok := p.IdentityForSSHKey(demokeys.Signer("bob").PublicKey())
	require.True(t, ok)
	require.Equal(t, "bob", id)
	_, ok = p.IdentityForSSHKey(demokeys.Signer("carol").PublicKey())
	require.False(t, ok, "carol lists no key")
}

func TestPeopleKeysErrors(t *testing.T) {
	bob := func(lines string) string {
		return mutate(t, "    groups: [reviewers]\n  - id: carol", "    groups: [reviewers]\n"+lines+"  - id: carol")
	}
	cases := []struct{ name, yaml, want string }{
		{"rsa refused", bob(`    ssh: ["` + rsaKey + `"]` + "\n"), `humans[1].ssh[0]: key type ssh-rsa is not accepted (want ssh-ed25519 or sk-ssh-ed25519@openssh.com; ssh-rsa is refused: SHA-1)`},
		{"not a key", bob(`    ssh: ["ssh-ed25519 nope"]` + "\n"), `humans[1].ssh[0]: not an SSH public key`},
		{"key of two identities", mutate(t, "    groups: [qa]\n", `    groups: [qa]
    ssh: ["`+demokeys.AuthorizedKey("bob")+`"]
`) + "", ""},
		{"unknown proof", mutate(t, "        bots_count: true\n", "        bots_count: true\n        proof: signed\n"), `environments.prod.gates.review.proof: must be gateway or approver (got "signed"; default gateway)`},
		{"unknown request proof", mutate(t, "environments:\n  prod:\n", "environments:\n  prod:\n    request_proof: anyone\n"), `environments.prod.request_proof: must be gateway or requester`},
		{"passkey without key", bob("    webauthn:\n      - credential_id: AAEC\n        rp_id: localhost\n"), `humans[1].webauthn[0].public_key: is required`},
		{"passkey bad cose", bob("    webauthn:\n      - credential_id: AAEC\n        public_key: AAEC\n        rp_id: localhost\n"), `humans[1].webauthn[0].public_key: not a COSE public key`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			y := c.yaml
			want := c.want
			if c.name == "key of two identities" { // erin lists bob's key too
				y = strings.Replace(y, "    groups: [reviewers]\n  - id: carol", "    groups: [reviewers]\n    ssh: [\""+demokeys.AuthorizedKey("bob")+"\"]\n  - id: carol", 1)
				want = `already belongs to "bob": a key proves one identity`
			}
			_, err := Parse("policy.yaml", []byte(y))
			require.Error(t, err)
			require.Contains(t, err.Error(), want)
		})
	}
}

func TestProofDefaults(t *testing.T) {
	p := testPolicy(t)
	require.Equal(t, ProofGateway, p.ProofAt("prod", GateApproval))
	y := mutate(t, "        quorum: 2\n", "        quorum: 2\n        proof: approver\n")
	p, err := Parse("policy.yaml", []byte(y))
	require.NoError(t, err)
	require.Equal(t, ProofApprover, p.ProofAt("prod", GateApproval))
	require.Equal(t, ProofGateway, p.ProofAt("prod", GateReview))
	require.Equal(t, ProofGateway, p.RequestProofIn("prod"))
}
