package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"github.com/foureyes/foureyes/policy"
)

// Enrollment makes a passkey for the approval page and prints the policy
// lines that list it. It grants nothing: the credential counts once a
// reviewed change to the policy lists it under the person.

func (s *Server) enrollPage(w http.ResponseWriter, r *http.Request) {
	l, ok := s.pageLinkOf(w, r, PurposeEnroll)
	if !ok {
		return
	}
	pageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = pageTemplates.ExecuteTemplate(w, "enroll.html", map[string]any{"Identity": l.Identity, "RPID": s.page.keys.RPID(),
		"Listed": len(s.credentialsOf(l.Identity))})
}

// enrollOptions is what navigator.credentials.create needs.
type enrollOptions struct {
	Nonce     string   `json:"nonce"`
	Challenge string   `json:"challenge"`
	RPID      string   `json:"rp_id"`
	UserID    string   `json:"user_id"`
	UserName  string   `json:"user_name"`
	Exclude   []string `json:"exclude_credentials"`
	TimeoutMS int64    `json:"timeout_ms"`
}

// enrollChallenge issues a creation challenge (the nonce itself).
func (s *Server) enrollChallenge(w http.ResponseWriter, r *http.Request) {
	l, ok := s.pageLinkOf(w, r, PurposeEnroll)
	if !ok {
		return
	}
	nonce := s.page.challenges.issue(challenge{identity: l.Identity, purpose: PurposeEnroll})
	writeJSON(w, http.StatusOK, enrollOptions{Nonce: b64(nonce), Challenge: b64(nonce), RPID: s.page.keys.RPID(),
		UserID: b64([]byte(l.Identity)), UserName: l.Identity, Exclude: append([]string{}, s.credentialsOf(l.Identity)...),
		TimeoutMS: challengeTTL.Milliseconds()})
}

// enrollBody is the page's post: the nonce and the browser's
// PublicKeyCredential (rawId, response.clientDataJSON and
// response.attestationObject, base64url).
type enrollBody struct {
	Nonce      string          `json:"nonce"`
	Credential json.RawMessage `json:"credential"`
}

// EnrollAnswer is the new credential as the policy lists it.
type EnrollAnswer struct {
	Identity   string             `json:"identity"`
	Credential policy.WebAuthnKey `json:"credential"`
	PolicyYAML string             `json:"policy_yaml"`
}

func (s *Server) enrollFinish(w http.ResponseWriter, r *http.Request) {
	l, ok := s.pageLinkOf(w, r, PurposeEnroll)
	if !ok {
		return
	}
	var eb enrollBody
	if bad := decodeStrict(w, r, s.maxBody, &eb); bad != nil {
		writeError(w, bad.status, bad.msg)
		return
	}
	c, ok := s.page.challenges.take(eb.Nonce)
	if !ok || c.purpose != PurposeEnroll || c.identity != l.Identity {
		writeError(w, http.StatusForbidden, "nonce: not issued to you by this gateway, already used, or expired: ask again")
		return
	}
	key, err := s.createdKey(eb.Credential, c.nonce)
	if err != nil {
		writeError(w, http.StatusBadRequest, "credential: "+err.Error())
		return
	}
	s.log.Info("passkey enrolled", "identity", l.Identity, "credential_id", key.CredentialID)
	writeJSON(w, http.StatusOK, EnrollAnswer{Identity: l.Identity, Credential: key, PolicyYAML: PolicyLines(key)})
}

// createdKey parses the attestation (go-webauthn) and checks it answers
// this challenge, from this page, for this relying party, with the person
// present and verified; the COSE key is then the credential's.
func (s *Server) createdKey(raw []byte, nonce []byte) (policy.WebAuthnKey, error) {
	pcc, err := protocol.ParseCredentialCreationResponseBytes(raw)
	if err != nil {
		return policy.WebAuthnKey{}, fmt.Errorf("not a WebAuthn creation response: %v", err)
	}
	cd, ad := pcc.Response.CollectedClientData, pcc.Response.AttestationObject.AuthData
	rp := sha256.Sum256([]byte(s.page.keys.RPID()))
	switch {
	case cd.Type != protocol.CreateCeremony:
		return policy.WebAuthnKey{}, fmt.Errorf("client data of type %q, not webauthn.create", cd.Type)
	case cd.Challenge != b64(nonce):
		return policy.WebAuthnKey{}, fmt.Errorf("not made for this enrollment's challenge")
	case cd.Origin != s.page.keys.Origin() || cd.CrossOrigin:
		return policy.WebAuthnKey{}, fmt.Errorf("made on %s, not on %s", cd.Origin, s.page.keys.Origin())
	case !bytes.Equal(ad.RPIDHash, rp[:]):
		return policy.WebAuthnKey{}, fmt.Errorf("made for another relying party than %s", s.page.keys.RPID())
	case !ad.Flags.UserPresent() || !ad.Flags.UserVerified():
		return policy.WebAuthnKey{}, fmt.Errorf("the authenticator did not verify the user (flags UP and UV are needed)")
	}
	if _, err := webauthncose.ParsePublicKey(ad.AttData.CredentialPublicKey); err != nil {
		return policy.WebAuthnKey{}, fmt.Errorf("public key: %v", err)
	}
	return policy.WebAuthnKey{CredentialID: b64(ad.AttData.CredentialID), PublicKey: b64(ad.AttData.CredentialPublicKey),
		RPID: s.page.keys.RPID()}, nil
}

// PolicyLines is the credential as the person adds it under their entry.
func PolicyLines(k policy.WebAuthnKey) string {
	return fmt.Sprintf("    webauthn:\n      - credential_id: %s\n        public_key: %s\n        rp_id: %s\n",
		k.CredentialID, k.PublicKey, k.RPID)
}
