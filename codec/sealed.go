package codec

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"sync"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The compact sealed form (issue 26), the data of an EncodingSealed payload:
//
//	header   version (1 byte) | key id length (1 byte) | key id
//	nonce    12 random bytes
//	sealed   AES-256-GCM(content), the header as additional data
//
// and content is a content code and what it codes: codeWhole and the whole
// marshalled payload, or one of wellKnown's codes and the payload's data
// when its metadata is exactly that one encoding (what the SDK's default
// converter writes), or codeJSONDeflateV1 and json/plain data deflated
// (compress.go). The header is authenticated: a payload relabelled
// with another key id, or with any header byte altered, does not open. Its
// version byte also keeps the two forms apart: a key id (validKeyID) never
// starts with byte 1, so neither form's additional data is the other's.
const formatVersion = 1

// codeWhole: the content is the whole payload, marshalled (metadata other
// than a single well-known encoding, external payloads, unknown fields).
const codeWhole = 0

// wellKnown are the encodings stored as a code byte; the codes are part of
// the format: never renumber or reuse one, only append.
var wellKnown = [...]string{
	codeJSON: converter.MetadataEncodingJSON,      // json/plain
	2:        converter.MetadataEncodingNil,       // binary/null
	3:        converter.MetadataEncodingBinary,    // binary/plain
	4:        converter.MetadataEncodingProtoJSON, // json/protobuf
	5:        converter.MetadataEncodingProto,     // binary/protobuf
	// 6: codeJSONDeflateV1, json/plain deflated (compress.go)
}

const codeJSON = 1

var codeOf = func() map[string]byte {
	m := map[string]byte{}
	for code, enc := range wellKnown {
		if enc != "" {
			m[enc] = byte(code)
		}
	}
	return m
}()

// sealCompact seals p under k in one buffer: header, nonce and content,
// the content encrypted in place and the tag appended.
func sealCompact(k *Key, p *commonpb.Payload, compress bool) ([]byte, error) {
	code, data, done := compactContent(p, compress)
	defer done()
	size := len(data)
	if code == codeWhole {
		size = proto.Size(p)
	}
	buf, err := headerAndNonce(k, 1+size)
	if err != nil {
		return nil, err
	}
	hdr, start := 2+len(k.ID), len(buf) // the content starts after the nonce
	buf = append(buf, code)
	if code != codeWhole {
		buf = append(buf, data...)
	} else if buf, err = (proto.MarshalOptions{}).MarshalAppend(buf, p); err != nil {
		return nil, fmt.Errorf("payload codec: marshal payload: %w", err)
	}
	return k.aead.Seal(buf[:start], buf[hdr:start], buf[start:], buf[:hdr]), nil
}

// compactContent is p's content code and the data it codes: json/plain
// deflated (codeJSONDeflateV1) when compress is on and that is smaller.
// done returns the scratch buffer once the data is sealed.
func compactContent(p *commonpb.Payload, compress bool) (code byte, data []byte, done func()) {
	code = contentCode(p)
	if !compress || code != codeJSON {
		return code, p.GetData(), func() {}
	}
	buf := scratch.Get().(*bytes.Buffer)
	buf.Reset()
	done = func() { putScratch(buf) }
	if deflateJSON(buf, p.GetData()) {
		return codeJSONDeflateV1, buf.Bytes(), done
	}
	return code, p.GetData(), done
}

var scratch = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putScratch keeps buffers of a usual payload's size, not a rare huge one.
func putScratch(b *bytes.Buffer) {
	if b.Cap() <= 256<<10 {
		scratch.Put(b)
	}
}

// headerAndNonce is k's header and a random nonce, in a buffer with room
// for content bytes and the tag.
func headerAndNonce(k *Key, content int) ([]byte, error) {
	hdr := 2 + len(k.ID)
	buf := make([]byte, hdr+k.aead.NonceSize(), hdr+k.aead.NonceSize()+content+k.aead.Overhead())
	buf[0], buf[1] = formatVersion, byte(len(k.ID))
	copy(buf[2:], k.ID)
	if _, err := rand.Read(buf[hdr:]); err != nil {
		return nil, fmt.Errorf("payload codec: nonce: %w", err)
	}
	return buf, nil
}

// contentCode is p's well-known encoding's code when that encoding and its
// data are all p holds, else codeWhole.
func contentCode(p *commonpb.Payload) byte {
	if p == nil || len(p.GetMetadata()) != 1 || !onlyMetadataAndData(p) {
		return codeWhole
	}
	return codeOf[string(p.GetMetadata()[converter.MetadataEncoding])] // codeWhole if absent or unknown
}

// onlyMetadataAndData: p sets no other field, unknown fields included, so
// that a field a newer Temporal API adds is sealed whole, never dropped.
func onlyMetadataAndData(p *commonpb.Payload) bool {
	m := p.ProtoReflect()
	if len(m.GetUnknown()) != 0 {
		return false
	}
	only := true
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		only = fd.Number() == 1 || fd.Number() == 2 // metadata, data
		return only
	})
	return only
}

type header struct {
	keyID string
	size  int // bytes
}

// parseHeader reads the header of sealed data, naming what is wrong.
func parseHeader(data []byte) (header, error) {
	if len(data) < 2 {
		return header{}, fmt.Errorf("payload codec: %s payload of %d bytes is too short for its header", EncodingSealed, len(data))
	}
	if data[0] != formatVersion {
		return header{}, fmt.Errorf("payload codec: %s payload of format version %d, which this codec does not know (it opens version %d)", EncodingSealed, data[0], formatVersion)
	}
	size := 2 + int(data[1])
	if data[1] == 0 {
		return header{}, fmt.Errorf("payload codec: %s payload names no key id (its length byte is 0)", EncodingSealed)
	}
	if len(data) < size {
		return header{}, fmt.Errorf("payload codec: %s payload of %d bytes: its key id of %d bytes does not fit", EncodingSealed, len(data), data[1])
	}
	return header{keyID: string(data[2:size]), size: size}, nil
}

// openCompact opens sealed data with the ring's key its header names.
func (c *Codec) openCompact(data []byte) (*commonpb.Payload, error) {
	keyID, content, err := c.decrypt(data)
	if err != nil {
		return nil, err
	}
	return fromContent(keyID, content)
}

// decrypt is sealed data's content (its content code first), decrypted
// with the ring's key its header names.
func (c *Codec) decrypt(data []byte) (keyID string, content []byte, err error) {
	h, err := parseHeader(data)
	if err != nil {
		return "", nil, err
	}
	k, err := c.ring.key(h.keyID)
	if err != nil {
		return "", nil, err
	}
	a, start := k.aead, h.size+k.aead.NonceSize()
	if len(data) < start+a.Overhead()+1 {
		return "", nil, fmt.Errorf("payload codec: %s payload of key %q is %d bytes, too short to be encrypted (truncated?)", EncodingSealed, h.keyID, len(data))
	}
	content, err = a.Open(nil, data[h.size:start], data[start:], data[:h.size])
	if err != nil {
		return "", nil, errNoOpen(h.keyID)
	}
	return h.keyID, content, nil
}

// fromContent is the payload content codes, exactly as it was sealed.
func fromContent(keyID string, content []byte) (*commonpb.Payload, error) {
	code, rest := int(content[0]), content[1:]
	if code == codeWhole {
		var d commonpb.Payload
		if err := proto.Unmarshal(rest, &d); err != nil {
			return nil, fmt.Errorf("payload codec: decrypted payload of key %q is not a payload: %w", keyID, err)
		}
		return &d, nil
	}
	if code == codeJSONDeflateV1 {
		data, err := inflateJSON(keyID, rest)
		if err != nil {
			return nil, err
		}
		return wellKnownPayload(codeJSON, data), nil
	}
	if code >= len(wellKnown) || wellKnown[code] == "" {
		return nil, fmt.Errorf("payload codec: decrypted payload of key %q has content code %d, which this codec does not know (it knows 0 to %d)", keyID, code, codeJSONDeflateV1)
	}
	return wellKnownPayload(code, rest), nil
}

// wellKnownPayload is the payload of one well-known encoding and data.
func wellKnownPayload(code int, data []byte) *commonpb.Payload {
	if len(data) == 0 {
		data = nil // as unmarshalling the whole payload gives: no data is nil data
	}
	return &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(wellKnown[code])}, Data: data}
}
