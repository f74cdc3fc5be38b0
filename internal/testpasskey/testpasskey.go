// Package testpasskey is a software WebAuthn authenticator for tests: it
// makes the assertions a browser's passkey would, and lets a test spoil
// one part of them (origin, relying party, flags, signature) at a time.
package testpasskey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// Authenticator holds one ES256 credential for one relying party.
type Authenticator struct {
	RPID, Origin string
	ID           []byte
	key          *ecdsa.PrivateKey
}

// New makes a credential for rpID, used from pages at origin.
func New(rpID, origin string) *Authenticator {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &Authenticator{RPID: rpID, Origin: origin, ID: id, key: key}
}

// FromKey is a credential whose key is known: a browser's virtual
// authenticator's (DevTools WebAuthn.getCredentials), to sign what that
// browser would never sign (another origin).
func FromKey(rpID, origin string, id []byte, key *ecdsa.PrivateKey) *Authenticator {
	return &Authenticator{RPID: rpID, Origin: origin, ID: id, key: key}
}

// Credential is the credential as a policy lists it.
func (a *Authenticator) Credential() policy.WebAuthnKey {
	cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         int64(webauthncose.P256), XCoord: a.key.X.FillBytes(make([]byte, 32)), YCoord: a.key.Y.FillBytes(make([]byte, 32))})
	if err != nil {
		panic(err)
	}
	return policy.WebAuthnKey{CredentialID: base64.RawURLEncoding.EncodeToString(a.ID),
		PublicKey: base64.RawURLEncoding.EncodeToString(cose), RPID: a.RPID}
}

// Options spoil one part of an assertion.
type Options struct {
	Origin, RPID, Type string
	Flags              *byte // default: user present and verified
	BadSignature       bool
}

// Sign is the assertion of statement under nonce.
func (a *Authenticator) Sign(statement, nonce []byte, o Options) *attest.Assertion {
	cd, _ := json.Marshal(map[string]any{"type": or(o.Type, "webauthn.get"), "origin": or(o.Origin, a.Origin),
		"challenge": base64.RawURLEncoding.EncodeToString(attest.PasskeyChallenge(statement, nonce)), "crossOrigin": false})
	rp := sha256.Sum256([]byte(or(o.RPID, a.RPID)))
	flags := byte(0x05)
	if o.Flags != nil {
		flags = *o.Flags
	}
	auth := append(append([]byte{}, rp[:]...), flags, 0, 0, 0, 1)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		panic(err)
	}
	if o.BadSignature {
		sig[len(sig)-1] ^= 1
	}
	return &attest.Assertion{CredentialID: a.ID, AuthenticatorData: auth, ClientDataJSON: cd, Signature: sig, Nonce: nonce}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
