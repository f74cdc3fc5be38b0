// Package codec encrypts every Temporal payload foureyes writes with
// AES-256-GCM (issue 28): inputs, results, memos, update arguments and
// details reach the server, its database and its backups as ciphertext,
// marked "binary/encrypted" with the id of the key that sealed them. Search
// attributes are not payloads of a data converter and stay plaintext (the
// UI and the CLI query them): docs/security.md, "Threat model".
//
// It follows samples-go's encryption sample: the whole payload (metadata and
// data, as protobuf) is sealed, so a decoded payload is byte for byte the
// one the default converter made, signed DSSE envelopes included.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// Payload metadata of an encrypted payload (the names samples-go uses).
const (
	EncodingEncrypted = "binary/encrypted"
	MetadataKeyID     = "encryption-key-id"
)

// Codec seals payloads with the key ring's active key and opens them with
// whichever key of the ring sealed them. Payloads that are not encrypted
// (histories written before encryption was on) pass through unchanged.
type Codec struct{ ring *KeyRing }

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns the codec of ring.
func New(ring *KeyRing) *Codec { return &Codec{ring: ring} }

// ActiveKeyID is the id of the key that seals new payloads.
func (c *Codec) ActiveKeyID() string { return c.ring.ActiveID() }

// DataConverter is the SDK's default converter with every payload passing
// through c: what clients and workers are given.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// Encode seals each payload with the active key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	k := c.ring.active
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := p.Marshal()
		if err != nil {
			return nil, fmt.Errorf("payload codec: marshal payload: %w", err)
		}
		sealed, err := seal(k.aead, k.ID, plain)
		if err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{Metadata: map[string][]byte{
			converter.MetadataEncoding: []byte(EncodingEncrypted),
			MetadataKeyID:              []byte(k.ID),
		}, Data: sealed}
	}
	return out, nil
}

// Decode opens each encrypted payload; others are returned as they are.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		d, err := c.open(p)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

func (c *Codec) open(p *commonpb.Payload) (*commonpb.Payload, error) {
	id := string(p.GetMetadata()[MetadataKeyID])
	k, ok := c.ring.byID[id]
	if !ok {
		return nil, fmt.Errorf("payload codec: payload encrypted with key %q, which this key ring does not hold (keys: %s)", id, c.ring.ids())
	}
	plain, err := open(k.aead, id, p.GetData())
	if err != nil {
		return nil, err
	}
	var d commonpb.Payload
	if err := d.Unmarshal(plain); err != nil {
		return nil, fmt.Errorf("payload codec: decrypted payload of key %q is not a payload: %w", id, err)
	}
	return &d, nil
}

// seal is nonce || AES-GCM(plain), the key id as additional data: a payload
// relabelled with another key id fails to open.
func seal(a cipher.AEAD, keyID string, plain []byte) ([]byte, error) {
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("payload codec: nonce: %w", err)
	}
	return a.Seal(nonce, nonce, plain, []byte(keyID)), nil
}

func open(a cipher.AEAD, keyID string, sealed []byte) ([]byte, error) {
	if len(sealed) < a.NonceSize()+a.Overhead() {
		return nil, fmt.Errorf("payload codec: payload of key %q is %d bytes, too short to be encrypted", keyID, len(sealed))
	}
	n := a.NonceSize()
	plain, err := a.Open(nil, sealed[:n], sealed[n:], []byte(keyID))
	if err != nil {
		return nil, fmt.Errorf("payload codec: payload of key %q does not decrypt (altered, or another key under that id)", keyID)
	}
	return plain, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("want a 32-byte AES-256 key, got %d bytes", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

var errNoRing = errors.New("payload codec: no key ring")

// Check fails when c cannot seal and open a payload (start-up self test).
func (c *Codec) Check() error {
	if c == nil || c.ring == nil || c.ring.active == nil {
		return errNoRing
	}
	p, err := converter.GetDefaultDataConverter().ToPayload("self-test")
	if err != nil {
		return err
	}
	enc, err := c.Encode([]*commonpb.Payload{p})
	if err != nil {
		return err
	}
	_, err = c.Decode(enc)
	return err
}
