package attest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	intoto "github.com/in-toto/attestation/go/v1"
)

// PayloadType is the DSSE payload type of an in-toto statement.
const PayloadType = "application/vnd.in-toto+json"

// Envelope is a DSSE envelope as JSON. It travels inside Temporal payloads
// as raw JSON (readable in the UI); its signature covers the base64-decoded
// payload, which verification reads without ever re-marshalling it.
type Envelope []byte

// MarshalJSON writes the envelope as it is (null when empty).
func (e Envelope) MarshalJSON() ([]byte, error) {
	if len(e) == 0 {
		return []byte("null"), nil
	}
	return json.RawMessage(e).MarshalJSON()
}

// UnmarshalJSON keeps the envelope's JSON as it is.
func (e *Envelope) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*e = nil
		return nil
	}
	*e = append((*e)[:0], b...)
	return nil
}

// Subject is what a statement is about: a name and a hex SHA-256.
type Subject struct {
	Name   string
	SHA256 string
}

// ArtifactSubject names an artifact by its digest.
func ArtifactSubject(digest string) Subject { return Subject{Name: "artifact", SHA256: digest} }

// ReleaseSubject names a release by the SHA-256 of its id (for facts that
// exist before there is an artifact, such as a cancel).
func ReleaseSubject(release string) Subject {
	sum := sha256.Sum256([]byte(release))
	return Subject{Name: "release:" + release, SHA256: hex.EncodeToString(sum[:])}
}

// Signer signs statements for one role.
type Signer struct {
	Role string
	priv ed25519.PrivateKey
	id   string
}

// NewSigner signs as role with priv.
func NewSigner(role string, priv ed25519.PrivateKey) *Signer {
	return &Signer{Role: role, priv: priv, id: KeyID(priv.Public().(ed25519.PublicKey))}
}

// LoadSigner reads role's private key from path.
func LoadSigner(role, path string) (*Signer, error) {
	if path == "" {
		return nil, fmt.Errorf("%w for the %s role: set FOUREYES_%s_SIGNING_KEY_FILE", ErrNoKey, role, upper(role))
	}
	priv, err := ReadPrivateKey(path)
	if err != nil {
		return nil, err
	}
	return NewSigner(role, priv), nil
}

// PublicKey is the signer's public key as a policy lists it.
func (s *Signer) PublicKey() string { return FormatPublicKey(s.priv.Public().(ed25519.PublicKey)) }

// KeyID is the id of the signer's key.
func (s *Signer) KeyID() (string, error) { return s.id, nil }

// Sign implements dsse.Signer.
func (s *Signer) Sign(_ context.Context, data []byte) ([]byte, error) {
	return ed25519.Sign(s.priv, data), nil
}

// Attest signs a statement about subject with predicate (a JSON object).
func (s *Signer) Attest(subject Subject, predicateType string, predicate any) (Envelope, error) {
	if s == nil {
		return nil, ErrNoKey
	}
	body, err := statement(subject, predicateType, predicate)
	if err != nil {
		return nil, err
	}
	es, err := dsse.NewEnvelopeSigner(s)
	if err != nil {
		return nil, err
	}
	env, err := es.SignPayload(context.Background(), PayloadType, body)
	if err != nil {
		return nil, err
	}
	return json.Marshal(env)
}

// statement encodes an in-toto Statement v1.
func statement(subject Subject, predicateType string, predicate any) ([]byte, error) {
	raw, err := json.Marshal(predicate)
	if err != nil {
		return nil, fmt.Errorf("attest: predicate: %w", err)
	}
	pred := &structpb.Struct{}
	if err := protojson.Unmarshal(raw, pred); err != nil {
		return nil, fmt.Errorf("attest: predicate is not a JSON object: %w", err)
	}
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       []*intoto.ResourceDescriptor{{Name: subject.Name, Digest: map[string]string{"sha256": subject.SHA256}}},
		PredicateType: predicateType,
		Predicate:     pred,
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	return protojson.Marshal(st)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
