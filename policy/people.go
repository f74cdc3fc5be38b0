package policy

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"golang.org/x/crypto/ssh"

	"github.com/foureyes/foureyes/attest"
)

// People's own keys: what lets a human or bot prove a decision, a request
// or a commit themselves, so that no foureyes role can speak in their name.

// SSH key types a person may sign with. ssh-rsa is refused: its
// signatures may be SHA-1, and an RSA key is one more thing to get wrong.
var sshKeyTypes = []string{ssh.KeyAlgoED25519, ssh.KeyAlgoSKED25519}

// WebAuthnKey is one passkey credential of a human.
type WebAuthnKey struct {
	// CredentialID is the credential's id, base64url without padding.
	CredentialID string `yaml:"credential_id" json:"credential_id"`
	// PublicKey is the credential's COSE public key, base64url without padding.
	PublicKey string `yaml:"public_key" json:"public_key"`
	// RPID is the relying party the credential is scoped to (the approval
	// page's host name, e.g. "approve.example.com").
	RPID string `yaml:"rp_id" json:"rp_id"`
}

// Proof settings of a gate and of an environment's requests.
const (
	ProofGateway   = "gateway"   // the approval role vouches for the person (the default)
	ProofApprover  = "approver"  // a decision counts only with the decider's own signature
	ProofRequester = "requester" // a start or emergency counts only with the requester's signature
)

// SSHNamespace is the sshsig namespace of every statement a person signs
// for foureyes (git commits use "git").
const SSHNamespace = attest.SSHNamespace

// ParseSSHKey reads one "TYPE BASE64 [comment]" public key line and
// refuses key types people may not sign with.
func ParseSSHKey(line string) (ssh.PublicKey, error) {
	pub, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, fmt.Errorf("not an SSH public key (want \"ssh-ed25519 AAAA… comment\"): %v", err)
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, fmt.Errorf("one key per entry")
	}
	for _, t := range sshKeyTypes {
		if pub.Type() == t {
			return pub, nil
		}
	}
	return nil, fmt.Errorf("key type %s is not accepted (want %s; ssh-rsa is refused: SHA-1)",
		pub.Type(), strings.Join(sshKeyTypes, " or "))
}

// DecodeB64URL reads base64url with or without padding.
func DecodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// SSHKeys returns the parsed SSH keys of identity (human or bot).
func (p *Policy) SSHKeys(identity string) []ssh.PublicKey {
	var out []ssh.PublicKey
	for _, line := range p.sshLines(identity) {
		if k, err := ParseSSHKey(line); err == nil {
			out = append(out, k)
		}
	}
	return out
}

func (p *Policy) sshLines(identity string) []string {
	for _, h := range p.Humans {
		if h.ID == identity {
			return h.SSH
		}
	}
	for _, b := range p.Bots {
		if b.ID == identity {
			return b.SSH
		}
	}
	return nil
}

// IdentityForSSHKey finds the identity that lists key.
func (p *Policy) IdentityForSSHKey(key ssh.PublicKey) (string, bool) {
	want := ssh.FingerprintSHA256(key)
	ids := p.Identities()
	for _, id := range ids {
		for _, k := range p.SSHKeys(id) {
			if ssh.FingerprintSHA256(k) == want {
				return id, true
			}
		}
	}
	return "", false
}

// WebAuthnCredential finds the human that lists the credential id (raw
// bytes) and the credential.
func (p *Policy) WebAuthnCredential(id []byte) (string, WebAuthnKey, bool) {
	want := base64.RawURLEncoding.EncodeToString(id)
	for _, h := range p.Humans {
		for _, c := range h.WebAuthn {
			if strings.TrimRight(c.CredentialID, "=") == want {
				return h.ID, c, true
			}
		}
	}
	return "", WebAuthnKey{}, false
}

// Identities lists every human and bot, humans first, in file order.
func (p *Policy) Identities() []string {
	var ids []string
	for _, h := range p.Humans {
		ids = append(ids, h.ID)
	}
	for _, b := range p.Bots {
		ids = append(ids, b.ID)
	}
	return ids
}

// ProofAt is the proof a decision at env's gate needs (follow-up gates
// take the review gate's rule).
func (p *Policy) ProofAt(env, gate string) string {
	if gate != GateApproval {
		gate = GateReview
	}
	if r, ok := p.Rule(env, gate); ok && r.Proof != "" {
		return r.Proof
	}
	return ProofGateway
}

// RequestProofIn is the proof a start or emergency in env needs.
func (p *Policy) RequestProofIn(env string) string {
	if e, ok := p.Environments[env]; ok && e.RequestProof != "" {
		return e.RequestProof
	}
	return ProofGateway
}

// personKeys checks an identity's own keys: each parses, is of an accepted
// type and belongs to no other identity.
func (v *validator) personKeys(base, id string, sshKeys []string, passkeys []WebAuthnKey) error {
	for i, line := range sshKeys {
		path := fmt.Sprintf("%s.ssh[%d]", base, i)
		k, err := ParseSSHKey(line)
		if err != nil {
			return v.fail(path, "%v", err)
		}
		if err := v.ownKey(path, id, "SSH key "+ssh.FingerprintSHA256(k)); err != nil {
			return err
		}
	}
	for i, c := range passkeys {
		if err := v.passkey(fmt.Sprintf("%s.webauthn[%d]", base, i), id, c); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) passkey(path, id string, c WebAuthnKey) error {
	raw, err := DecodeB64URL(c.CredentialID)
	if err != nil || len(raw) == 0 {
		return v.fail(path+".credential_id", "is required: the credential id, base64url")
	}
	cose, err := DecodeB64URL(c.PublicKey)
	if err != nil || len(cose) == 0 {
		return v.fail(path+".public_key", "is required: the COSE public key, base64url")
	}
	if _, err := webauthncose.ParsePublicKey(cose); err != nil {
		return v.fail(path+".public_key", "not a COSE public key: %v", err)
	}
	if c.RPID == "" || strings.ContainsAny(c.RPID, "/: ") {
		return v.fail(path+".rp_id", "is required: the approval page's host name, e.g. approve.example.com")
	}
	return v.ownKey(path+".credential_id", id, "passkey credential "+base64.RawURLEncoding.EncodeToString(raw))
}

// ownKey registers a key: one identity each.
func (v *validator) ownKey(path, id, key string) error {
	if v.personal == nil {
		v.personal = map[string]string{}
	}
	if other, dup := v.personal[key]; dup {
		return v.fail(path, "%s already belongs to %q: a key proves one identity", key, other)
	}
	v.personal[key] = id
	return nil
}
