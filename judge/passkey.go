package judge

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// Authenticator data flags (WebAuthn §6.1).
const (
	flagUserPresent  = 0x01
	flagUserVerified = 0x04
)

// passkeySigner verifies a WebAuthn assertion over statement: a credential
// the policy lists, a challenge that is this statement, the credential's
// relying party and an origin of it, the person present and verified, and
// the signature by the credential's key. It names the human it belongs to.
func (j *Judge) passkeySigner(statement []byte, a *attest.Assertion) (string, error) {
	id, cred, ok := j.Policy.WebAuthnCredential(a.CredentialID)
	if !ok {
		return "", fmt.Errorf("passkey credential %s is listed for nobody",
			base64.RawURLEncoding.EncodeToString(a.CredentialID))
	}
	if err := checkClientData(a.ClientDataJSON, attest.PasskeyChallenge(statement, a.Nonce), cred.RPID); err != nil {
		return "", fmt.Errorf("%s's passkey assertion: %w", id, err)
	}
	if err := checkAuthenticatorData(a.AuthenticatorData, cred.RPID); err != nil {
		return "", fmt.Errorf("%s's passkey assertion: %w", id, err)
	}
	if err := verifyAssertion(cred, a); err != nil {
		return "", fmt.Errorf("%s's passkey assertion: %w", id, err)
	}
	return id, nil
}

// clientData is the part of WebAuthn's CollectedClientData a verifier reads.
type clientData struct {
	Type        string `json:"type"`
	Challenge   string `json:"challenge"`
	Origin      string `json:"origin"`
	CrossOrigin bool   `json:"crossOrigin"`
}

func checkClientData(raw, challenge []byte, rpID string) error {
	var cd clientData
	if err := json.Unmarshal(raw, &cd); err != nil {
		return fmt.Errorf("client data is not JSON: %v", err)
	}
	got, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(cd.Challenge, "="))
	switch {
	case cd.Type != "webauthn.get":
		return fmt.Errorf("client data of type %q, not webauthn.get", cd.Type)
	case err != nil || !bytes.Equal(got, challenge):
		return fmt.Errorf("the challenge signed is not this statement")
	case cd.CrossOrigin:
		return fmt.Errorf("signed in a cross-origin frame")
	}
	return checkOrigin(cd.Origin, rpID)
}

// checkOrigin: the page that asked is the relying party's (or a subdomain
// of it), over https — plain http only on localhost, as browsers allow.
func checkOrigin(origin, rpID string) error {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("origin %q is not a URL", origin)
	}
	host := u.Hostname()
	if host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return fmt.Errorf("origin %s is not of relying party %s", origin, rpID)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && host == "localhost") {
		return fmt.Errorf("origin %s is not https", origin)
	}
	return nil
}

func checkAuthenticatorData(data []byte, rpID string) error {
	if len(data) < 37 {
		return fmt.Errorf("authenticator data of %d bytes, want at least 37", len(data))
	}
	want := sha256.Sum256([]byte(rpID))
	flags := data[32]
	switch {
	case !bytes.Equal(data[:32], want[:]):
		return fmt.Errorf("signed for another relying party than %s", rpID)
	case flags&flagUserPresent == 0:
		return fmt.Errorf("the user was not present (flag UP off)")
	case flags&flagUserVerified == 0:
		return fmt.Errorf("the user was not verified (flag UV off)")
	}
	return nil
}

// verifyAssertion checks the signature over authenticator data and the
// client data's hash with the credential's COSE key.
func verifyAssertion(cred policy.WebAuthnKey, a *attest.Assertion) error {
	cose, err := policy.DecodeB64URL(cred.PublicKey)
	if err != nil {
		return err
	}
	key, err := webauthncose.ParsePublicKey(cose)
	if err != nil {
		return fmt.Errorf("credential key: %v", err)
	}
	cdHash := sha256.Sum256(a.ClientDataJSON)
	signed := append(append([]byte{}, a.AuthenticatorData...), cdHash[:]...)
	if ok, err := webauthncose.VerifySignature(key, signed, a.Signature); err != nil || !ok {
		return fmt.Errorf("bad signature")
	}
	return nil
}
