package codec_test

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/foureyes/foureyes/codec"
)

// jsonDictV1SHA256 pins content code 6's dictionary: every payload sealed
// with that code inflates with exactly these bytes. Never change it; a new
// dictionary is a new file under a new content code.
const jsonDictV1SHA256 = "4b79eecd52e38bbf6d945e7d2953311a7d7b0ccd3ee0a677ba30a039d0f42580"

func TestDictionaryIsFrozen(t *testing.T) {
	onDisk, err := os.ReadFile("dict/json-v1")
	require.NoError(t, err)
	require.Equal(t, onDisk, codec.JSONDictV1(), "the embedded dictionary is the file")
	sum := sha256.Sum256(codec.JSONDictV1())
	require.Equal(t, jsonDictV1SHA256, hex.EncodeToString(sum[:]), "dict/json-v1 changed: code-6 payloads already written would no longer open")
	require.LessOrEqual(t, len(codec.JSONDictV1()), 16<<10)
	inToto := base64.StdEncoding.EncodeToString([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"`))
	require.Contains(t, string(codec.JSONDictV1()), inToto[:len(inToto)/4*4], "a DSSE payload's in-toto prefix, as the envelope aligns it")
}

// jsonOfSize is a JSON object of about n bytes shaped like a release's
// facts: field names, ids, a DSSE envelope with a random signature.
func jsonOfSize(t testing.TB, n int) []byte {
	sig := make([]byte, 64)
	_, _ = rand.Read(sig)
	fact := map[string]any{"release_id": "release-payments-prod-" + hex.EncodeToString(sig[:8]), "gate": "approval",
		"envelope": map[string]any{"payloadType": "application/vnd.in-toto+json",
			"payload":    base64.StdEncoding.EncodeToString([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"artifact"}]}`)),
			"signatures": []map[string]string{{"keyid": "", "sig": base64.StdEncoding.EncodeToString(sig)}}}}
	b, err := json.Marshal(fact)
	require.NoError(t, err)
	for len(b) < n {
		b = append(b[:len(b)-1], fmt.Sprintf(`,"note_%d":"approved by carol at the approval gate"}`, len(b))...)
	}
	return b[:n:n]
}

func jsonPayload(data []byte) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: data}
}

// json/plain payloads of every size open exactly; from 128 bytes the
// compressible ones are sealed deflated (code 6) and smaller than the
// compact form, below 128 never.
func TestDeflatedJSONOpensExactlyAtEverySize(t *testing.T) {
	c := codec.New(ring(t, t.TempDir(), "payload-1"))
	for _, n := range []int{0, 2, 40, 64, 127, 128, 129, 300, 1000, 1500, 4 << 10, 64 << 10, 1 << 20, 3 << 20} {
		p := jsonPayload(nil)
		if n > 0 {
			p.Data = jsonOfSize(t, n)
		}
		sealed := roundTrip(t, c, p)
		code, err := c.ContentCode(sealed)
		require.NoError(t, err)
		compact := header("payload-1") + 1 + n + nonceAndTag
		if n < 128 {
			require.Equal(t, byte(1), code, "%d bytes: too few to deflate", n)
			require.Len(t, sealed.Data, compact)
			continue
		}
		require.Equal(t, byte(6), code, "%d bytes of JSON are deflated", n)
		require.Less(t, len(sealed.Data), compact, "%d bytes", n)
	}
}

// Data deflate does not shrink is sealed as code 1, exactly as before
// (random bytes: even base64 of them deflates by a quarter).
func TestIncompressibleJSONIsSealedPlain(t *testing.T) {
	c := codec.New(ring(t, t.TempDir(), "payload-1"))
	random := make([]byte, 600)
	_, _ = rand.Read(random)
	p := jsonPayload(random)
	sealed := roundTrip(t, c, p)
	code, err := c.ContentCode(sealed)
	require.NoError(t, err)
	require.Equal(t, byte(1), code)
	require.Len(t, sealed.Data, header("payload-1")+1+len(p.Data)+nonceAndTag)
}

// Compression off seals code 1 and still opens code 6 (a rolling upgrade).
func TestCompressionOffStillOpensDeflated(t *testing.T) {
	r := ring(t, t.TempDir(), "payload-1")
	on, off := codec.New(r), codec.New(r, codec.Compression(false))
	p := jsonPayload(jsonOfSize(t, 2000))
	sealedOff := roundTrip(t, off, p)
	code, err := off.ContentCode(sealedOff)
	require.NoError(t, err)
	require.Equal(t, byte(1), code)
	sealedOn, err := on.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	dec, err := off.Decode(sealedOn)
	require.NoError(t, err)
	require.True(t, proto.Equal(p, dec[0]))
}

func deflateWithDict(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriterDict(&b, flate.BestCompression, codec.JSONDictV1())
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

// A role that shares the key ring seals a zip bomb: it is refused past
// MaxInflated, with the key, the code and the limit named; exactly the
// limit opens.
func TestDeflatedBombIsRefused(t *testing.T) {
	c := codec.New(ring(t, t.TempDir(), "payload-1"))
	atLimit := append([]byte{6}, deflateWithDict(t, make([]byte, codec.MaxInflated))...)
	dec, err := c.Decode([]*commonpb.Payload{c.SealRaw(1, atLimit)})
	require.NoError(t, err, "control: the limit itself opens")
	require.Len(t, dec[0].Data, codec.MaxInflated)
	bomb := append([]byte{6}, deflateWithDict(t, make([]byte, 64<<20))...)
	require.Less(t, len(bomb), 100<<10, "64 MiB of zeros deflate to a small payload")
	msg := decodeErr(t, c, c.SealRaw(1, bomb))
	require.Contains(t, msg, `decrypted payload of key "payload-1", content code 6 (json/plain deflated with json-v1), inflates beyond the limit of 8388608 bytes`)
	over := append([]byte{6}, deflateWithDict(t, make([]byte, codec.MaxInflated+1))...)
	require.Contains(t, decodeErr(t, c, c.SealRaw(1, over)), "beyond the limit of 8388608 bytes")
}

// Content code 6 whose data is not a deflate stream, or a cut one, is
// refused naming the key and the code, never opened as something else.
func TestCorruptDeflatedIsRefused(t *testing.T) {
	c := codec.New(ring(t, t.TempDir(), "payload-1"))
	good := deflateWithDict(t, jsonOfSize(t, 500))
	for name, data := range map[string][]byte{
		"empty":             {},
		"not deflate":       {0xff, 0xff, 0xff, 0xff},
		"truncated":         good[:len(good)/2],
		"reserved block":    {0x07, 0x00}, // BTYPE 11
		"stored, bad NLEN":  {0x01, 0x05, 0x00, 0x00, 0x00, 'a'},
		"a bit flipped ...": flipBit(good, 3),
	} {
		t.Run(name, func(t *testing.T) {
			msg := decodeErr(t, c, c.SealRaw(1, append([]byte{6}, data...)))
			require.Contains(t, msg, `decrypted payload of key "payload-1", content code 6 (json/plain deflated with json-v1), does not inflate`)
		})
	}
	require.Contains(t, decodeErr(t, c, c.SealRaw(1, append([]byte{6}, good[:len(good)/2]...))), "truncated deflate stream")
}

func flipBit(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 0x10
	return b
}

// vector is a fixed vector file: a key, plain payloads and their sealed
// forms, written once.
type vector struct {
	Comment   string          `json:"comment"`
	KeyID     string          `json:"keyId"`
	KeyBase64 string          `json:"keyBase64"`
	Plain     json.RawMessage `json:"plain"`
	Sealed    json.RawMessage `json:"sealed"`
}

const deflatedVectorFile = "testdata/json-deflate-v1.json"

// Payloads sealed with content code 6 when it was added open, exactly,
// forever: the dictionary, the content code and the layout may never
// change under them.
func TestDeflatedVectorStillOpens(t *testing.T) {
	c, plain, sealed := vectorRing(t, deflatedVectorFile)
	require.NotEmpty(t, sealed)
	dec, err := c.Decode(sealed)
	require.NoError(t, err)
	for i := range plain {
		code, err := c.ContentCode(sealed[i])
		require.NoError(t, err)
		require.Equal(t, byte(6), code, "payload %d of the vector is deflated", i)
		require.True(t, proto.Equal(plain[i], dec[i]), "payload %d: opened %v, sealed %v", i, dec[i], plain[i])
	}
}

// vectorRing reads a vector file: a codec whose ring holds a new active
// key and the vector's key as an old one, its plain payloads and their
// sealed forms.
func vectorRing(t *testing.T, file string) (*codec.Codec, []*commonpb.Payload, []*commonpb.Payload) {
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var v vector
	require.NoError(t, json.Unmarshal(b, &v))
	dir := t.TempDir()
	old := filepath.Join(dir, v.KeyID+".key")
	require.NoError(t, os.WriteFile(old, []byte(v.KeyBase64+"\n"), 0o600))
	active, err := codec.WriteKeyFile(dir, "payload-2")
	require.NoError(t, err)
	r, err := codec.LoadKeyRing(active, []string{old})
	require.NoError(t, err)
	var plain, sealed commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(v.Plain, &plain))
	require.NoError(t, protojson.Unmarshal(v.Sealed, &sealed))
	require.Len(t, sealed.Payloads, len(plain.Payloads))
	return codec.New(r), plain.Payloads, sealed.Payloads
}
