package codec_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/foureyes/foureyes/codec"
)

// wellKnownEncodings are the encodings the compact form stores as a code
// byte (codec/sealed.go).
var wellKnownEncodings = []string{"json/plain", "binary/null", "binary/plain", "json/protobuf", "binary/protobuf"}

// header is the compact header's size for key id: version, length, id.
func header(id string) int { return 2 + len(id) }

const nonceAndTag = 12 + 16

// roundTrip seals and opens p and fails unless the opened payload is p,
// field for field and byte for byte; it returns the sealed payload.
func roundTrip(t testing.TB, c *codec.Codec, p *commonpb.Payload) *commonpb.Payload {
	t.Helper()
	enc, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	dec, err := c.Decode(enc)
	require.NoError(t, err)
	require.True(t, proto.Equal(p, dec[0]), "opened %v, sealed %v", dec[0], p)
	require.True(t, bytes.Equal(p.GetData(), dec[0].GetData()))
	if len(p.GetData()) == 0 {
		require.Nil(t, dec[0].GetData(), "no data opens as nil, as the server's own round trip (protobuf) gives it")
	}
	want, err := proto.MarshalOptions{Deterministic: true}.Marshal(p)
	require.NoError(t, err)
	got, err := proto.MarshalOptions{Deterministic: true}.Marshal(dec[0])
	require.NoError(t, err)
	require.Equal(t, want, got, "the opened payload marshals to the sealed one's bytes")
	return enc[0]
}

// A payload of one well-known encoding is sealed as a code byte and its
// data; any other whole. Either opens exactly as it was. (Compression
// off: these are the sizes of the plain compact form; compress_test.go
// has deflated json/plain.)
func TestCompactFormKeepsEveryPayloadExactly(t *testing.T) {
	c := codec.New(ring(t, t.TempDir(), "payload-1"), codec.Compression(false))
	compact := func(p *commonpb.Payload) int { return header("payload-1") + 1 + len(p.GetData()) + nonceAndTag }
	whole := func(p *commonpb.Payload) int { return header("payload-1") + 1 + proto.Size(p) + nonceAndTag }
	large := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MB
	var cases []struct {
		name string
		p    *commonpb.Payload
		size func(*commonpb.Payload) int
	}
	add := func(name string, p *commonpb.Payload, size func(*commonpb.Payload) int) {
		cases = append(cases, struct {
			name string
			p    *commonpb.Payload
			size func(*commonpb.Payload) int
		}{name, p, size})
	}
	for _, e := range wellKnownEncodings {
		for _, d := range []struct {
			name string
			data []byte
		}{{"nil", nil}, {"empty", []byte{}}, {"small", []byte(`{"x":1}`)}, {"binary", []byte{0, 1, 0xff, 0}}, {"4MB", large}} {
			add(e+" "+d.name, &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(e)}, Data: d.data}, compact)
		}
		add(e+" and another entry", &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(e), "messageType": []byte("x.Y")}, Data: []byte("d")}, whole)
	}
	add("nil metadata", &commonpb.Payload{Data: []byte("d")}, whole)
	add("empty payload", &commonpb.Payload{}, whole)
	add("empty metadata value", &commonpb.Payload{Metadata: map[string][]byte{"encoding": {}}, Data: []byte("d")}, whole)
	add("unknown encoding", &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/snappy")}, Data: []byte("d")}, whole)
	add("encoding in another case", &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("JSON/plain")}, Data: []byte("d")}, whole)
	add("one entry, not the encoding", &commonpb.Payload{Metadata: map[string][]byte{"encodings": []byte("json/plain")}, Data: []byte("d")}, whole)
	add("external payloads", &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte("d"),
		ExternalPayloads: []*commonpb.Payload_ExternalPayloadDetails{{SizeBytes: 7}}}, whole)
	withUnknown := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte("d")}
	withUnknown.ProtoReflect().SetUnknown([]byte{0x78, 0x05}) // field 15, varint 5: a field a newer API might add
	add("unknown field", withUnknown, whole)
	for _, v := range []any{"a string", map[string]int{"n": 1}, nil, []byte("raw"), []byte{}, timestamppb.New(timestampFixed())} {
		p, err := converter.GetDefaultDataConverter().ToPayload(v)
		require.NoError(t, err)
		size := compact
		if len(p.Metadata) > 1 {
			size = whole // protobuf: its messageType too
		}
		add("default converter "+string(p.Metadata["encoding"]), p, size)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sealed := roundTrip(t, c, tc.p)
			require.Len(t, sealed.Data, tc.size(tc.p), "sealed as %s", map[bool]string{true: "a code and the data", false: "the whole payload"}[tc.size(tc.p) == compact(tc.p)])
			if len(tc.p.GetData()) > 2 {
				require.False(t, bytes.Contains(sealed.Data, tc.p.GetData()), "the data is in the sealed bytes in plaintext")
			}
		})
	}
}

func timestampFixed() time.Time { return time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC) }

// sameKeyRing holds payload-a (active) and payload-b, the same AES key
// under two ids (an operator copying a key file under a new name): only
// the additional data tells their payloads apart.
func sameKeyRing(t *testing.T) *codec.Codec {
	dir := t.TempDir()
	a, err := codec.WriteKeyFile(dir, "payload-a")
	require.NoError(t, err)
	raw, err := os.ReadFile(a)
	require.NoError(t, err)
	b := filepath.Join(dir, "payload-b.key")
	require.NoError(t, os.WriteFile(b, raw, 0o600))
	r, err := codec.LoadKeyRing(a, []string{b})
	require.NoError(t, err)
	return codec.New(r)
}

func sealedOf(t *testing.T, c *codec.Codec, v any) *commonpb.Payload {
	p, err := c.DataConverter().ToPayload(v)
	require.NoError(t, err)
	return p
}

func withData(p *commonpb.Payload, edit func([]byte) []byte) *commonpb.Payload {
	return &commonpb.Payload{Metadata: p.Metadata, Data: edit(bytes.Clone(p.Data))}
}

func decodeErr(t *testing.T, c *codec.Codec, p *commonpb.Payload) string {
	t.Helper()
	_, err := c.Decode([]*commonpb.Payload{p})
	require.Error(t, err)
	return err.Error()
}

// Every byte of the header is authenticated: a payload relabelled with
// another key id fails to open even when that id holds the same key.
func TestCompactHeaderIsAuthenticated(t *testing.T) {
	c := sameKeyRing(t)
	p := sealedOf(t, c, "x")
	require.Equal(t, "payload-a", codec.KeyID(p))
	swapped := withData(p, func(d []byte) []byte { d[2+len("payload-")] = 'b'; return d })
	require.Equal(t, "payload-b", codec.KeyID(swapped))
	require.Contains(t, decodeErr(t, c, swapped), `payload of key "payload-b" does not decrypt`)

	hdr, n := header("payload-a"), len(p.Data)
	for i := range n {
		flipped := withData(p, func(d []byte) []byte { d[i] ^= 0x20; return d })
		msg := decodeErr(t, c, flipped)
		switch {
		case i == 0:
			require.Contains(t, msg, "of format version 33, which this codec does not know (it opens version 1)")
		case i < hdr: // the key id's length (41 now: the id runs into the nonce) or a byte of it
			require.Contains(t, msg, "which this key ring does not hold (keys: payload-a, payload-b)")
		default: // nonce, ciphertext, tag
			require.Contains(t, msg, `payload of key "payload-a" does not decrypt`)
		}
	}
}

// A payload relabelled with a key id of the ring that holds another key,
// or one the ring does not hold, does not open.
func TestCompactSwappedKeyIDIsRefused(t *testing.T) {
	c := codec.New(ring(t, t.TempDir(), "payload-2", "payload-1"))
	p := sealedOf(t, c, "x")
	swapped := withData(p, func(d []byte) []byte { d[2+len("payload-")] = '1'; return d })
	require.Contains(t, decodeErr(t, c, swapped), `payload of key "payload-1" does not decrypt`)
	unknown := withData(p, func(d []byte) []byte { d[2+len("payload-")] = '3'; return d })
	require.Contains(t, decodeErr(t, c, unknown), `payload encrypted with key "payload-3", which this key ring does not hold (keys: payload-1, payload-2)`)
}

// Every truncation of a sealed payload is refused with an error saying so
// (no panic, nothing opened).
func TestCompactTruncatedIsRefused(t *testing.T) {
	c := codec.New(ring(t, t.TempDir(), "payload-1"))
	p := sealedOf(t, c, "a few bytes of data")
	hdr := header("payload-1")
	for n := range len(p.Data) {
		msg := decodeErr(t, c, withData(p, func(d []byte) []byte { return d[:n] }))
		switch {
		case n < 2:
			require.Contains(t, msg, "binary/sealed payload of "+itoa(n)+" bytes is too short for its header")
		case n < hdr:
			require.Contains(t, msg, "its key id of 9 bytes does not fit")
		case n < hdr+nonceAndTag+1:
			require.Contains(t, msg, `binary/sealed payload of key "payload-1" is `+itoa(n)+" bytes, too short to be encrypted")
		default:
			require.Contains(t, msg, `payload of key "payload-1" does not decrypt`)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// A payload of a format version this codec does not know is refused, even
// sealed under a key of the ring: its layout may differ from version 1's.
func TestCompactUnknownFormatVersionIsRefused(t *testing.T) {
	c := codec.New(ring(t, t.TempDir(), "payload-1"))
	content := append([]byte{1}, `"x"`...) // json/plain "x", as version 1 would code it
	_, err := c.Decode([]*commonpb.Payload{c.SealRaw(1, content)})
	require.NoError(t, err, "control: version 1 opens")
	for _, v := range []byte{0, 2, 255} {
		msg := decodeErr(t, c, c.SealRaw(v, content))
		require.Contains(t, msg, "binary/sealed payload of format version "+itoa(int(v))+", which this codec does not know (it opens version 1)")
	}
}

// Content codes the codec does not know, no content at all, or a whole
// payload that is not one, are refused, never read as something else.
func TestCompactWrongContentCodeIsRefused(t *testing.T) {
	c := codec.New(ring(t, t.TempDir(), "payload-1"))
	for _, code := range []byte{7, 8, 200, 255} {
		msg := decodeErr(t, c, c.SealRaw(1, []byte{code, 'x'}))
		require.Contains(t, msg, `decrypted payload of key "payload-1" has content code `+itoa(int(code))+", which this codec does not know (it knows 0 to 6)")
	}
	require.Contains(t, decodeErr(t, c, c.SealRaw(1, nil)), "too short to be encrypted")
	noID := withData(c.SealRaw(1, []byte{1, 'x'}), func(d []byte) []byte { d[1] = 0; return d })
	require.Contains(t, decodeErr(t, c, noID), "binary/sealed payload names no key id (its length byte is 0)")
	require.Contains(t, decodeErr(t, c, c.SealRaw(1, []byte{0, 0xff, 0xff})), `decrypted payload of key "payload-1" is not a payload`)
}

// Neither form's sealed data opens as the other's.
func TestFormsDoNotOpenAsEachOther(t *testing.T) {
	c := codec.New(ring(t, t.TempDir(), "payload-1"))
	p, err := converter.GetDefaultDataConverter().ToPayload("x")
	require.NoError(t, err)
	legacy, err := c.EncodeLegacy([]*commonpb.Payload{p})
	require.NoError(t, err)
	asCompact := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(codec.EncodingSealed)}, Data: legacy[0].Data}
	decodeErr(t, c, asCompact)
	compact := sealedOf(t, c, "x")
	asLegacy := &commonpb.Payload{Metadata: legacy[0].Metadata, Data: compact.Data}
	require.Contains(t, decodeErr(t, c, asLegacy), `payload of key "payload-1" does not decrypt`)
}

// legacyRing holds a new active key and the legacy vector's key as an old
// one.
func legacyRing(t *testing.T) (*codec.Codec, []*commonpb.Payload, []*commonpb.Payload) {
	return vectorRing(t, "testdata/legacy-binary-encrypted.json")
}

// Payloads sealed by the first form's own code (f595fd6) open, exactly,
// under a ring where their key is an old one.
func TestLegacyPayloadsStillOpen(t *testing.T) {
	c, plain, sealed := legacyRing(t)
	require.Len(t, sealed, 5)
	for _, p := range sealed {
		require.Equal(t, codec.EncodingEncrypted, string(p.Metadata["encoding"]))
		require.Equal(t, "payload-legacy", codec.KeyID(p))
	}
	dec, err := c.Decode(sealed)
	require.NoError(t, err)
	for i := range plain {
		require.True(t, proto.Equal(plain[i], dec[i]), "payload %d: opened %v, sealed %v", i, dec[i], plain[i])
	}
	var got map[string]string
	require.NoError(t, c.DataConverter().FromPayload(sealed[0], &got))
	require.Equal(t, "sealed by the binary/encrypted codec (f595fd6)", got["title"])
	fresh := sealedOf(t, c, got)
	require.Equal(t, codec.EncodingSealed, string(fresh.Metadata["encoding"]), "new payloads are compact")
	require.Equal(t, "payload-2", codec.KeyID(fresh))
}

// The first form's defences hold as they did: tampered, relabelled and
// short payloads are refused.
func TestLegacyTamperedOrRelabelledIsRefused(t *testing.T) {
	c, _, sealed := legacyRing(t)
	p := sealed[0]
	flipped := withData(p, func(d []byte) []byte { d[len(d)-1] ^= 1; return d })
	require.Contains(t, decodeErr(t, c, flipped), `payload of key "payload-legacy" does not decrypt`)

	same := sameKeyRing(t)
	legacy, err := same.EncodeLegacy([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"x"`)}})
	require.NoError(t, err)
	relabelled := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(codec.EncodingEncrypted),
		codec.MetadataKeyID: []byte("payload-b")}, Data: legacy[0].Data}
	require.Contains(t, decodeErr(t, same, relabelled), `payload of key "payload-b" does not decrypt`)

	short := withData(p, func([]byte) []byte { return []byte("abc") })
	require.Contains(t, decodeErr(t, c, short), "binary/encrypted payload of key \"payload-legacy\" is 3 bytes, too short to be encrypted")
}

// FuzzCompactRoundTrip: any payload, of any metadata and data, opens as it
// was sealed, json/plain deflated (code 6) or not; one the protobuf
// encoding cannot hold (a key not UTF-8) is refused at sealing, as before.
func FuzzCompactRoundTrip(f *testing.F) {
	for i := range wellKnownEncodings {
		f.Add(uint8(i), "", "", []byte(nil), []byte(`{"a":1}`), false)
	}
	f.Add(uint8(0), "", "", []byte(nil), jsonOfSize(f, 700), false)                             // deflated
	f.Add(uint8(0), "", "", []byte(nil), []byte(strings.Repeat(`{"gate":"review"}`, 5)), false) // 85 B, deflated
	f.Add(uint8(9), "binary/snappy", "", []byte(nil), []byte{0, 1}, false)
	f.Add(uint8(0), "", "messageType", []byte("x.Y"), []byte("d"), false)
	f.Add(uint8(0), "", "", []byte(nil), []byte(nil), true)
	c := codec.New(ring(&testing.T{}, f.TempDir(), "payload-1"))
	f.Fuzz(func(t *testing.T, pick uint8, enc, extraKey string, extraVal, data []byte, nilMetadata bool) {
		if int(pick) < len(wellKnownEncodings) {
			enc = wellKnownEncodings[pick]
		}
		p := &commonpb.Payload{Data: data}
		if !nilMetadata {
			p.Metadata = map[string][]byte{"encoding": []byte(enc)}
			if extraKey != "" {
				p.Metadata[extraKey] = extraVal
			}
		}
		if _, err := proto.Marshal(p); err != nil {
			_, err := c.Encode([]*commonpb.Payload{p})
			require.Error(t, err, "a payload protobuf cannot marshal")
			return
		}
		roundTrip(t, c, p)
	})
}

// FuzzOpenSealed: no data but what the codec sealed opens, and none
// panics it.
func FuzzOpenSealed(f *testing.F) {
	c := codec.New(ring(&testing.T{}, f.TempDir(), "payload-1"))
	valid := map[string]bool{}
	for _, v := range []any{"x", nil, []byte{1, 2}, strings.Repeat("y", 300), string(jsonOfSize(f, 500))} {
		p, err := c.DataConverter().ToPayload(v)
		require.NoError(f, err)
		valid[base64.StdEncoding.EncodeToString(p.Data)] = true
		f.Add(p.Data)
	}
	f.Add(c.SealRaw(2, []byte{1, 'x'}).Data)
	f.Add(c.SealRaw(1, []byte{7, 'x'}).Data)
	f.Add(c.SealRaw(1, []byte{6, 0xff, 0}).Data)
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(codec.EncodingSealed)}, Data: data}
		_, err := c.Decode([]*commonpb.Payload{p})
		if valid[base64.StdEncoding.EncodeToString(data)] {
			require.NoError(t, err)
		} else {
			require.Error(t, err, "data the codec did not seal opened")
		}
	})
}

// FuzzOpenDeflated: any bytes as a code-6 payload's data, sealed under a
// key of the ring (what a hostile role holding the ring can write): it
// opens as json/plain of at most MaxInflated bytes or is refused with an
// error naming the code, never panics. FuzzOpenSealed cannot get here: it
// does not get past the tag.
func FuzzOpenDeflated(f *testing.F) {
	c := codec.New(ring(&testing.T{}, f.TempDir(), "payload-1"))
	f.Add([]byte{0x03, 0x00})                        // an empty final fixed block
	f.Add([]byte{0x01, 0x01, 0x00, 0xfe, 0xff, 'x'}) // stored "x"
	f.Add([]byte{0xff, 0xff})
	var b bytes.Buffer
	w, err := flate.NewWriterDict(&b, flate.BestCompression, codec.JSONDictV1())
	require.NoError(f, err)
	_, _ = w.Write(jsonOfSize(f, 400))
	require.NoError(f, w.Close())
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, deflated []byte) {
		dec, err := c.Decode([]*commonpb.Payload{c.SealRaw(1, append([]byte{6}, deflated...))})
		if err != nil {
			require.Contains(t, err.Error(), "content code 6 (json/plain deflated with json-v1)")
			return
		}
		require.Equal(t, "json/plain", string(dec[0].Metadata["encoding"]))
		require.LessOrEqual(t, len(dec[0].Data), codec.MaxInflated)
	})
}
