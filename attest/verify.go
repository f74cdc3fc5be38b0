package attest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	intoto "github.com/in-toto/attestation/go/v1"
)

// Codes of verification failures: stable labels for metrics and tests.
const (
	CodeUnsigned     = "unsigned"      // no envelope, or one without signatures
	CodeMalformed    = "malformed"     // not a DSSE envelope of an in-toto Statement v1
	CodeBadSignature = "bad_signature" // no key of the role verifies it
	CodeWrongRole    = "wrong_role"    // signed with another role's key
	CodeWrongType    = "wrong_type"    // another kind of fact than expected
	CodeMisbound     = "misbound"      // bound to another release, policy, gate or artifact
	CodeNoKey        = "no_key"        // the policy lists no key for the role
)

// Error is a fact that does not verify.
type Error struct {
	Code   string
	Reason string
}

func (e *Error) Error() string { return e.Reason }

func fail(code, format string, args ...any) error {
	return &Error{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of a verification error ("" for nil, "other" for
// an error that is not an *Error).
func CodeOf(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return "other"
}

// KeyRing holds the public keys a policy lists, by role.
type KeyRing struct {
	keys map[string][]verifier
}

// NewKeyRing reads a policy's keys: role -> public keys ("ed25519:...").
func NewKeyRing(keys map[string][]string) (KeyRing, error) {
	k := KeyRing{keys: map[string][]verifier{}}
	for role, list := range keys {
		if !IsRole(role) {
			return KeyRing{}, fmt.Errorf("unknown role %q", role)
		}
		for i, s := range list {
			pub, err := ParsePublicKey(s)
			if err != nil {
				return KeyRing{}, fmt.Errorf("%s[%d]: %v", role, i, err)
			}
			k.keys[role] = append(k.keys[role], verifier{pub: pub, id: KeyID(pub)})
		}
	}
	return k, nil
}

// Has reports whether the ring holds a key of role.
func (k KeyRing) Has(role string) bool { return len(k.keys[role]) > 0 }

// Fact is a statement whose signature verified.
type Fact struct {
	Role          string
	KeyID         string
	PredicateType string
	Subject       Subject
	Payload       []byte // the statement's bytes exactly as signed
	predicate     json.RawMessage
}

// Decode reads the predicate into v.
func (f Fact) Decode(v any) error {
	if err := json.Unmarshal(f.predicate, v); err != nil {
		return fail(CodeMalformed, "%s statement: predicate: %v", f.PredicateType, err)
	}
	return nil
}

// Verify checks that env is a statement of predicateType signed with a key
// of role, and returns it. The predicate is read from the very bytes whose
// signature was checked.
func (k KeyRing) Verify(env Envelope, role, predicateType string) (Fact, error) {
	if len(bytes.TrimSpace(env)) == 0 || string(bytes.TrimSpace(env)) == "null" {
		return Fact{}, fail(CodeUnsigned, "unsigned: no %s attestation from the %s role", short(predicateType), role)
	}
	var e dsse.Envelope
	if err := json.Unmarshal(env, &e); err != nil {
		return Fact{}, fail(CodeMalformed, "not a DSSE envelope: %v", err)
	}
	if len(e.Signatures) == 0 {
		return Fact{}, fail(CodeUnsigned, "unsigned: the envelope holds no signature")
	}
	if e.PayloadType != PayloadType {
		return Fact{}, fail(CodeMalformed, "payload type %q, want %q", e.PayloadType, PayloadType)
	}
	id, body, err := k.verifySignature(&e, role)
	if err != nil {
		return Fact{}, err
	}
	f, err := parseStatement(body, predicateType)
	f.Role, f.KeyID = role, id
	return f, err
}

// verifySignature finds a key of role that verifies e; failing that, it
// says whether another role's key does (a role signing what it does not own).
func (k KeyRing) verifySignature(e *dsse.Envelope, role string) (string, []byte, error) {
	if !k.Has(role) {
		return "", nil, fail(CodeNoKey, "the policy lists no public key of the %s role", role)
	}
	if id, body, ok := verifyWith(e, k.keys[role]); ok {
		return id, body, nil
	}
	for _, other := range k.rolesBut(role) {
		if _, _, ok := verifyWith(e, k.keys[other]); ok {
			return "", nil, fail(CodeWrongRole, "signed with the %s role's key, not the %s role's", other, role)
		}
	}
	return "", nil, fail(CodeBadSignature, "bad signature: no key of the %s role verifies it", role)
}

func (k KeyRing) rolesBut(role string) []string {
	var out []string
	for r := range k.keys {
		if r != role {
			out = append(out, r)
		}
	}
	sort.Strings(out) // deterministic: this runs in workflow code
	return out
}

func verifyWith(e *dsse.Envelope, keys []verifier) (string, []byte, bool) {
	for _, v := range keys {
		ev, err := dsse.NewEnvelopeVerifier(v)
		if err != nil {
			continue
		}
		if _, body, err := ev.VerifyAndDecode(context.Background(), e); err == nil {
			return v.id, body, true
		}
	}
	return "", nil, false
}

func parseStatement(body []byte, predicateType string) (Fact, error) {
	var st intoto.Statement
	if err := protojson.Unmarshal(body, &st); err != nil {
		return Fact{}, fail(CodeMalformed, "not an in-toto statement: %v", err)
	}
	if err := st.Validate(); err != nil || st.GetType() != intoto.StatementTypeUri {
		return Fact{}, fail(CodeMalformed, "not an in-toto Statement v1: %v", err)
	}
	if st.GetPredicateType() != predicateType {
		return Fact{}, fail(CodeWrongType, "a %s statement where a %s statement was expected",
			short(st.GetPredicateType()), short(predicateType))
	}
	sub := st.GetSubject()[0]
	var raw struct {
		Predicate json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Fact{}, fail(CodeMalformed, "statement: %v", err)
	}
	return Fact{PredicateType: predicateType, Payload: body, predicate: raw.Predicate,
		Subject: Subject{Name: sub.GetName(), SHA256: sub.GetDigest()["sha256"]}}, nil
}

// verifier is one public key as a dsse.Verifier.
type verifier struct {
	pub ed25519.PublicKey
	id  string
}

func (v verifier) Verify(_ context.Context, data, sig []byte) error {
	if !ed25519.Verify(v.pub, data, sig) {
		return errors.New("ed25519: invalid signature")
	}
	return nil
}

func (v verifier) KeyID() (string, error)   { return v.id, nil }
func (v verifier) Public() crypto.PublicKey { return v.pub }
