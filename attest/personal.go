package attest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// People's own statements: what a person signs with their own key (SSH or
// passkey), so that no foureyes role can decide or request in their name.
// The approval role relays them; only the person's key makes them count.
const (
	PredicatePersonalDecision = "https://foureyes.dev/attestations/personal-decision/v1"
	PredicatePersonalRequest  = "https://foureyes.dev/attestations/personal-request/v1"
)

// Proof is a person's own signature over an in-toto statement, carried with
// the statement's bytes exactly as signed (base64 in JSON): a verifier reads
// the statement from those bytes, never from a re-encoding.
type Proof struct {
	Statement []byte `json:"statement"`
	// SSHSig is an armored SSH signature (sshsig, namespace "foureyes").
	SSHSig string `json:"sshsig,omitempty"`
	// Passkey is a WebAuthn assertion whose challenge is PasskeyChallenge.
	Passkey *Assertion `json:"passkey,omitempty"`
}

// Assertion is a WebAuthn assertion as the browser returned it.
type Assertion struct {
	CredentialID      []byte `json:"credential_id"`
	AuthenticatorData []byte `json:"authenticator_data"`
	ClientDataJSON    []byte `json:"client_data_json"`
	Signature         []byte `json:"signature"`
	// Nonce is the approval page's nonce: the challenge is the SHA-256 of
	// the statement and the nonce (PasskeyChallenge), so the same statement
	// is never asked for twice with the same challenge.
	Nonce []byte `json:"nonce"`
}

// PersonalDecision is what a decider signs: the one decision, on the one
// artifact of the one release run, under the pinned policy.
type PersonalDecision struct {
	Binding
	Scope
	// RequestID is the decider's own request id (the workflow sees it
	// scoped under their identity).
	RequestID string    `json:"request_id"`
	Gate      string    `json:"gate"`
	Verdict   string    `json:"verdict"`
	Identity  string    `json:"identity"`
	Commit    string    `json:"commit"`
	Comment   string    `json:"comment"`
	At        time.Time `json:"at"`
}

// PersonalRequest is what a requester signs to start a release (subject:
// ReleaseSubject): the requester is the signer, never a typed name.
type PersonalRequest struct {
	Release     string   `json:"release"`
	Service     string   `json:"service"`
	Environment string   `json:"environment"`
	Commit      string   `json:"commit"` // as requested: SHA, tag or branch
	Authors     []string `json:"authors,omitempty"`
	Requester   string   `json:"requester"`
	// Promotes is the release whose artifact this one promotes ("" when
	// it builds its own); Emergency the reason of a break-glass declaration.
	Promotes  string    `json:"promotes,omitempty"`
	Emergency string    `json:"emergency,omitempty"`
	At        time.Time `json:"at"`
}

// PersonalStatement encodes the in-toto statement a person signs.
func PersonalStatement(subject Subject, predicateType string, predicate any) ([]byte, error) {
	return statement(subject, predicateType, predicate)
}

// ParseStatement reads a statement of predicateType from its exact bytes
// (no signature is checked here: the judge checks the person's).
func ParseStatement(body []byte, predicateType string) (Fact, error) {
	return parseStatement(body, predicateType)
}

// PasskeyChallenge is the WebAuthn challenge for statement under nonce.
func PasskeyChallenge(statement, nonce []byte) []byte {
	h := sha256.New()
	h.Write(statement)
	h.Write(nonce)
	return h.Sum(nil)
}

// SSHNamespace is the sshsig namespace of every statement a person signs
// for foureyes (git commits use "git"); policy.SSHNamespace is the same.
const SSHNamespace = "foureyes"

// SignSSH is a person's SSH proof of statement: an armored sshsig (SHA-512)
// made with signer, their own key (a file or ssh-agent).
func SignSSH(statement []byte, signer ssh.Signer) (*Proof, error) {
	sig, err := sshsig.Sign(bytes.NewReader(statement), signer, sshsig.HashSHA512, SSHNamespace)
	if err != nil {
		return nil, fmt.Errorf("ssh signature: %w", err)
	}
	return &Proof{Statement: statement, SSHSig: string(sshsig.Armor(sig))}, nil
}

// ReleaseID is the release the decision is for.
func (d PersonalDecision) ReleaseID() string { return d.Release }
