package demokeys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// Passkey is identity's demo passkey: an ES256 credential for relying party
// localhost, derived from the name like the SSH keys, so that the sample
// policy can list it and the demo's headless browser can hold it.
type Passkey struct {
	ID  []byte
	Key *ecdsa.PrivateKey
}

// DemoPasskey is identity's demo passkey.
func DemoPasskey(identity string) Passkey {
	seed := sha256.Sum256([]byte("foureyes demo passkey: " + identity))
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), seed[:])
	if err != nil {
		panic(err) // a SHA-256 is below P-256's order but for 2^-32 of names
	}
	id := sha256.Sum256([]byte("foureyes demo passkey id: " + identity))
	return Passkey{ID: id[:16], Key: key}
}

// CredentialID is the credential id as the policy lists it (base64url).
func (p Passkey) CredentialID() string { return base64.RawURLEncoding.EncodeToString(p.ID) }

// PublicKey is the COSE public key as the policy lists it (base64url).
func (p Passkey) PublicKey() string {
	pt, err := p.Key.PublicKey.Bytes() // 0x04 ‖ x ‖ y
	if err != nil {
		panic(err)
	}
	x, y := pt[1:33], pt[33:]
	cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         int64(webauthncose.P256), XCoord: x, YCoord: y})
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(cose)
}

// PKCS8 is the private key as DevTools' WebAuthn.addCredential takes it
// (base64 of PKCS #8).
func (p Passkey) PKCS8() string {
	der, err := x509.MarshalPKCS8PrivateKey(p.Key)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}
