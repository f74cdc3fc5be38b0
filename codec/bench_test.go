package codec_test

import (
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/codec"
	"github.com/foureyes/foureyes/internal/payloads"
)

// BenchmarkCodec measures sealing and opening one payload of a release's
// typical sizes: a decision (~2 KB) and a pinned policy or signed bundle
// (~64 KB), both one repeated letter, and a recorded json/plain payload of
// about 1 KB (a signed decision's envelope). docs/benchmarks.md, "Payload
// encryption" and "Issue 26: json payloads deflated".
func BenchmarkCodec(b *testing.B) {
	c := codec.New(ring(&testing.T{}, b.TempDir(), "payload-1"))
	for _, size := range []int{2 << 10, 64 << 10} {
		p, err := converter.GetDefaultDataConverter().ToPayload(strings.Repeat("x", size))
		if err != nil {
			b.Fatal(err)
		}
		benchmarkPayload(b, c, map[int]string{2 << 10: "2KB", 64 << 10: "64KB"}[size], p)
	}
	benchmarkPayload(b, c, "json1KB", recordedJSON(b, 900, 1300))
}

func benchmarkPayload(b *testing.B, c *codec.Codec, name string, p *commonpb.Payload) {
	ps := []*commonpb.Payload{p}
	b.Run("encode-"+name, func(b *testing.B) {
		b.SetBytes(int64(len(p.Data)))
		for b.Loop() {
			if _, err := c.Encode(ps); err != nil {
				b.Fatal(err)
			}
		}
	})
	enc, _ := c.Encode(ps)
	b.Run("decode-"+name, func(b *testing.B) {
		b.SetBytes(int64(len(p.Data)))
		for b.Loop() {
			if _, err := c.Decode(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// recordedJSON is the first json/plain payload of a recorded history
// whose data is between lo and hi bytes.
func recordedJSON(b *testing.B, lo, hi int) *commonpb.Payload {
	var found *commonpb.Payload
	h := readHistory(&testing.T{}, "../workflows/testdata/histories/payments-prod-deployed-v12.json")
	payloads.EachEncoded(h.ProtoReflect(), func(p *commonpb.Payload) {
		if found == nil && string(p.Metadata["encoding"]) == "json/plain" && len(p.Data) >= lo && len(p.Data) <= hi {
			found = p
		}
	})
	if found == nil {
		b.Fatalf("no recorded json/plain payload of %d to %d bytes", lo, hi)
	}
	return found
}
