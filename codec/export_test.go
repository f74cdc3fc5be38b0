package codec

import (
	"crypto/rand"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// EncodeLegacy seals payloads in the first form (binary/encrypted, the key
// id in metadata of its own) as the codec did until issue 26 (f595fd6):
// for the tests that such payloads still open, and the bytes measure.
// testdata/legacy-binary-encrypted.json holds payloads sealed by that code
// itself.
func (c *Codec) EncodeLegacy(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	k := c.ring.active
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := p.Marshal()
		if err != nil {
			return nil, err
		}
		nonce := make([]byte, k.aead.NonceSize())
		_, _ = rand.Read(nonce)
		out[i] = &commonpb.Payload{Metadata: map[string][]byte{
			converter.MetadataEncoding: []byte(EncodingEncrypted),
			MetadataKeyID:              []byte(k.ID),
		}, Data: k.aead.Seal(nonce, nonce, plain, []byte(k.ID))}
	}
	return out, nil
}

// SealRaw seals content (a content code and what follows it) under the
// active key with a header of version, as a writer of another format
// version, or a broken one, would: the header is authenticated as usual,
// so only the codec's own checks can refuse what it holds.
func (c *Codec) SealRaw(version byte, content []byte) *commonpb.Payload {
	k := c.ring.active
	hdr := append([]byte{version, byte(len(k.ID))}, k.ID...)
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce)
	data := k.aead.Seal(append(hdr, nonce...), nonce, content, hdr)
	return &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(EncodingSealed)}, Data: data}
}

// JSONDictV1 is content code 6's preset dictionary, as embedded.
func JSONDictV1() []byte { return jsonDictV1 }

// ContentCode opens p and returns the content code it was sealed with:
// for tests that a payload was, or was not, deflated.
func (c *Codec) ContentCode(p *commonpb.Payload) (byte, error) {
	_, content, err := c.decrypt(p.GetData())
	if err != nil {
		return 0, err
	}
	return content[0], nil
}
