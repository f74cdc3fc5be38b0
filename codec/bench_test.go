package codec_test

import (
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/codec"
)

// BenchmarkCodec measures sealing and opening one payload of a release's
// typical sizes: a decision (~2 KB) and a pinned policy or signed bundle
// (~64 KB). docs/benchmarks.md, "Payload encryption".
func BenchmarkCodec(b *testing.B) {
	c := codec.New(ring(&testing.T{}, b.TempDir(), "payload-1"))
	for _, size := range []int{2 << 10, 64 << 10} {
		p, err := converter.GetDefaultDataConverter().ToPayload(strings.Repeat("x", size))
		if err != nil {
			b.Fatal(err)
		}
		ps := []*commonpb.Payload{p}
		name := map[int]string{2 << 10: "2KB", 64 << 10: "64KB"}[size]
		b.Run("encode-"+name, func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := c.Encode(ps); err != nil {
					b.Fatal(err)
				}
			}
		})
		enc, _ := c.Encode(ps)
		b.Run("decode-"+name, func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := c.Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
