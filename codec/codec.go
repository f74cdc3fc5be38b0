// Package codec encrypts every Temporal payload foureyes writes with
// AES-256-GCM (issue 28): inputs, results, memos, update arguments and
// details reach the server, its database and its backups as ciphertext,
// marked "binary/sealed", the id of the key that sealed them in the sealed
// data's header (sealed.go; the first form, "binary/encrypted", still opens). Search
// attributes are not payloads of a data converter and stay plaintext (the
// UI and the CLI query them): docs/security.md, "Threat model".
//
// Like samples-go's encryption sample, all of a payload is sealed, metadata
// and data, so a decoded payload is byte for byte the one the default
// converter made, signed DSSE envelopes included; a payload of one
// well-known encoding is sealed as a code byte and its data, any other as
// the whole marshalled payload.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// The outer encoding of a payload this codec seals (sealed.go): the key id,
// nonce and ciphertext are all in its data.
const EncodingSealed = "binary/sealed"

// The first form (issue 28, until issue 26's compact one): the whole
// marshalled payload sealed, the key id in metadata of its own (the names
// samples-go uses). Never written any more; opened forever, since running
// releases and their histories hold such payloads.
const (
	EncodingEncrypted = "binary/encrypted"
	MetadataKeyID     = "encryption-key-id"
)

// Codec seals payloads with the key ring's active key and opens them with
// whichever key of the ring sealed them. Payloads that are not encrypted
// (histories written before encryption was on) pass through unchanged.
type Codec struct {
	ring     *KeyRing
	compress bool // json/plain data deflated before sealing (compress.go)
}

var _ converter.PayloadCodec = (*Codec)(nil)

// Option changes how a codec seals; what it opens never changes.
type Option func(*Codec)

// Compression turns deflating json/plain data before sealing on (the
// default) or off. Off, the codec still opens compressed payloads: it is
// for a rolling upgrade, while some decoder may not know content code 6,
// and for operators who rule out compression (docs/security.md).
func Compression(on bool) Option { return func(c *Codec) { c.compress = on } }

// New returns the codec of ring.
func New(ring *KeyRing, opts ...Option) *Codec {
	c := &Codec{ring: ring, compress: true}
	for _, o := range opts {
		o(c)
	}
	return c
}

// ActiveKeyID is the id of the key that seals new payloads.
func (c *Codec) ActiveKeyID() string { return c.ring.ActiveID() }

// DataConverter is the SDK's default converter with every payload passing
// through c: what clients and workers are given.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// Encode seals each payload with the active key, in the compact form.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	k := c.ring.active
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		sealed, err := sealCompact(k, p, c.compress)
		if err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{Metadata: map[string][]byte{
			converter.MetadataEncoding: []byte(EncodingSealed),
		}, Data: sealed}
	}
	return out, nil
}

// Decode opens each encrypted payload, of either form; others are returned
// as they are.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		var err error
		switch string(p.GetMetadata()[converter.MetadataEncoding]) {
		case EncodingSealed:
			out[i], err = c.openCompact(p.GetData())
		case EncodingEncrypted:
			out[i], err = c.openLegacy(p)
		default:
			out[i] = p
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// KeyID is the id of the key that sealed p, of either form; "" when p is
// not encrypted or its header is malformed. For logs and tests: it proves
// nothing until the payload opens.
func KeyID(p *commonpb.Payload) string {
	switch string(p.GetMetadata()[converter.MetadataEncoding]) {
	case EncodingSealed:
		h, err := parseHeader(p.GetData())
		if err != nil {
			return ""
		}
		return h.keyID
	case EncodingEncrypted:
		return string(p.GetMetadata()[MetadataKeyID])
	}
	return ""
}

// openLegacy opens the first form: nonce || AES-GCM(marshalled payload),
// the key id (from the metadata) as additional data.
func (c *Codec) openLegacy(p *commonpb.Payload) (*commonpb.Payload, error) {
	id := string(p.GetMetadata()[MetadataKeyID])
	k, err := c.ring.key(id)
	if err != nil {
		return nil, err
	}
	a, sealed := k.aead, p.GetData()
	if len(sealed) < a.NonceSize()+a.Overhead() {
		return nil, fmt.Errorf("payload codec: %s payload of key %q is %d bytes, too short to be encrypted", EncodingEncrypted, id, len(sealed))
	}
	n := a.NonceSize()
	plain, err := a.Open(nil, sealed[:n], sealed[n:], []byte(id))
	if err != nil {
		return nil, errNoOpen(id)
	}
	var d commonpb.Payload
	if err := d.Unmarshal(plain); err != nil {
		return nil, fmt.Errorf("payload codec: decrypted payload of key %q is not a payload: %w", id, err)
	}
	return &d, nil
}

func errNoOpen(keyID string) error {
	return fmt.Errorf("payload codec: payload of key %q does not decrypt (altered, or another key under that id)", keyID)
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
	dec, err := c.Decode(enc)
	if err != nil {
		return err
	}
	if !proto.Equal(p, dec[0]) {
		return errors.New("payload codec: self test: the opened payload differs from the sealed one")
	}
	return nil
}
