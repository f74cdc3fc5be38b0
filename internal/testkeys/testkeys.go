// Package testkeys gives tests one fixed Ed25519 key per signing role (and
// an outsider's key no policy lists), so that signed facts can be made and
// checked without key files. Never used outside tests.
package testkeys

import (
	"crypto/ed25519"
	"crypto/sha256"

	"github.com/foureyes/foureyes/attest"
)

// Outsider is a role name for a key that no policy lists.
const Outsider = "outsider"

func private(role string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("foureyes test key " + role))
	return ed25519.NewKeyFromSeed(seed[:])
}

// Signer signs as role with its test key (role may be Outsider; it then
// claims to be the approval role).
func Signer(role string) *attest.Signer {
	if role == Outsider {
		return attest.NewSigner(attest.RoleApproval, private(role))
	}
	return attest.NewSigner(role, private(role))
}

// Public is role's test public key as a policy lists it.
func Public(role string) string {
	return attest.FormatPublicKey(private(role).Public().(ed25519.PublicKey))
}

// PolicyKeys lists every signing role's test key, for policy.Policy.Keys.
func PolicyKeys() map[string][]string {
	keys := map[string][]string{}
	for _, r := range attest.Roles {
		keys[r] = []string{Public(r)}
	}
	return keys
}

// Ring is the key ring of PolicyKeys.
func Ring() attest.KeyRing {
	k, err := attest.NewKeyRing(PolicyKeys())
	if err != nil {
		panic(err)
	}
	return k
}
