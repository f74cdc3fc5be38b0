package policy

import (
	"fmt"

	"github.com/foureyes/foureyes/attest"
)

// keys checks the public keys listed per signing role: known roles, keys that
// parse, no key listed for two roles (a key must speak for one duty only).
func (v *validator) keys() error {
	owner := map[string]string{}
	for _, role := range sortedKeys(v.p.Keys) {
		if !attest.IsRole(role) {
			return v.fail("keys."+role, "unknown signing role %q (want one of %v)", role, attest.Roles)
		}
		for i, k := range v.p.Keys[role] {
			path := fmt.Sprintf("keys.%s[%d]", role, i)
			if _, err := attest.ParsePublicKey(k); err != nil {
				return v.fail(path, "%v", err)
			}
			if other, dup := owner[k]; dup {
				return v.fail(path, "key already listed for the %s role: each role needs its own key", other)
			}
			owner[k] = role
		}
	}
	return nil
}

// RequireKeys reports the first signing role the policy lists no key for.
// Without every role's key no release can verify its stages: the workers
// refuse to start on such a policy (file given for the error).
func (p *Policy) RequireKeys(file string) error {
	for _, role := range attest.Roles {
		if len(p.Keys[role]) == 0 {
			return &Error{File: file, Path: "keys." + role,
				Reason: fmt.Sprintf("is required: the public key of the %s role (starter keys generate %s)", role, role)}
		}
	}
	return nil
}

// KeyRing returns the policy's public keys for verifying attestations.
func (p *Policy) KeyRing() (attest.KeyRing, error) { return attest.NewKeyRing(p.Keys) }
