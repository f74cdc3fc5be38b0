package headless

import "fmt"

// The DevTools WebAuthn domain: a virtual authenticator for the page, so
// that a test can enroll passkeys and sign with them in a real browser.

// Authenticator is how a virtual authenticator behaves.
type Authenticator struct {
	UserVerified bool // the person passes user verification
	ResidentKeys bool
	Verification bool // the authenticator can verify users
	AutoPresence bool // presence simulated without a prompt
	Transport    string
	Protocol     string
}

// PlatformPasskey is a passkey in the device, as a laptop's: CTAP2,
// internal transport, resident keys, user verification that succeeds.
func PlatformPasskey() Authenticator {
	return Authenticator{UserVerified: true, ResidentKeys: true, Verification: true,
		AutoPresence: true, Transport: "internal", Protocol: "ctap2"}
}

// AddAuthenticator enables the WebAuthn domain and attaches a virtual
// authenticator to the page; it returns the authenticator's id.
func (b *Browser) AddAuthenticator(a Authenticator) (string, error) {
	if err := b.call("WebAuthn.enable", map[string]any{"enableUI": false}, nil); err != nil {
		return "", err
	}
	var r struct{ AuthenticatorID string }
	err := b.call("WebAuthn.addVirtualAuthenticator", map[string]any{"options": map[string]any{
		"protocol": a.Protocol, "transport": a.Transport, "hasResidentKey": a.ResidentKeys,
		"hasUserVerification": a.Verification, "isUserVerified": a.UserVerified,
		"automaticPresenceSimulation": a.AutoPresence}}, &r)
	return r.AuthenticatorID, err
}

// Override spoils the authenticator's next responses (DevTools'
// setResponseOverrideBits): a bogus signature, UV or UP flag off.
type Override struct{ BogusSignature, BadUV, BadUP bool }

// SetOverride makes the authenticator's responses as o says until reset
// with the zero Override.
func (b *Browser) SetOverride(authenticator string, o Override) error {
	return b.call("WebAuthn.setResponseOverrideBits", map[string]any{"authenticatorId": authenticator,
		"isBogusSignature": o.BogusSignature, "isBadUV": o.BadUV, "isBadUP": o.BadUP}, nil)
}

// Credential is a credential the virtual authenticator holds.
type Credential struct {
	CredentialID string // base64 (standard)
	RPID         string
	PrivateKey   string // base64 PKCS#8
	UserHandle   string // base64
	SignCount    int
}

// Credentials lists the authenticator's credentials.
func (b *Browser) Credentials(authenticator string) ([]Credential, error) {
	var r struct{ Credentials []Credential }
	err := b.call("WebAuthn.getCredentials", map[string]any{"authenticatorId": authenticator}, &r)
	return r.Credentials, err
}

// Eval evaluates expr in the page (as a user gesture, so that WebAuthn
// ceremonies may start) and decodes its value into out (nil: ignored).
func (b *Browser) Eval(expr string, out any) error {
	var r struct {
		Result           struct{ Value any }
		ExceptionDetails *struct{ Text string }
	}
	if err := b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true,
		"userGesture": true, "awaitPromise": true}, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("%s: %s", expr, r.ExceptionDetails.Text)
	}
	if s, ok := out.(*string); ok {
		*s, _ = r.Result.Value.(string)
	}
	return nil
}

// AddCredential gives the authenticator a credential it did not make (a
// non-resident one, as a person's passkey the policy already lists).
func (b *Browser) AddCredential(authenticator string, c Credential) error {
	return b.call("WebAuthn.addCredential", map[string]any{"authenticatorId": authenticator, "credential": map[string]any{
		"credentialId": c.CredentialID, "isResidentCredential": false, "rpId": c.RPID,
		"privateKey": c.PrivateKey, "signCount": c.SignCount}}, nil)
}
