package codec_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/foureyes/foureyes/codec"
	"github.com/foureyes/foureyes/internal/figures"
	"github.com/foureyes/foureyes/internal/payloads"
)

// recordedHistories are the replay test's histories of the latest version
// (plain: recorded through the codec server).
const recordedHistories = "../workflows/testdata/histories/*-v12.json"

// TestCompactFormCostsFewerHistoryBytes seals every payload the codec seals
// in each recorded history (not search attributes or headers) in the
// three forms and reports the bytes each adds: docs/benchmarks.md, "Issue
// 26: a compact sealed payload" and "Issue 26: json payloads deflated".
// The compact form must add less than the first; a single-encoding
// json/plain payload exactly its header, content code, nonce and tag, and
// the outer encoding's metadata entry less the inner one's. Deflating
// json/plain data (the default) must add fewer bytes than the compact form
// without it, and never seal a json/plain payload larger than that form.
func TestCompactFormCostsFewerHistoryBytes(t *testing.T) {
	r := ring(t, t.TempDir(), "payload-1")
	c, deflating := codec.New(r, codec.Compression(false)), codec.New(r)
	files, err := filepath.Glob(recordedHistories)
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		plain := readHistory(t, f)
		legacy, compact, deflated := cloneHistory(plain), cloneHistory(plain), cloneHistory(plain)
		n := sealEach(t, legacy, c.EncodeLegacy)
		require.Equal(t, n, sealEach(t, compact, c.Encode))
		require.Equal(t, n, sealEach(t, deflated, deflating.Encode))
		p, l, k, d := proto.Size(plain), proto.Size(legacy), proto.Size(compact), proto.Size(deflated)
		require.Less(t, k, l)
		require.Less(t, d-p, k-p, "deflating adds fewer bytes than the compact form")
		figures.Report(t, "%s: %d payloads; history %d B plain, %d B binary/encrypted (+%.1f B/payload), %d B binary/sealed (+%.1f B/payload), %d B deflated (%+.1f B/payload)",
			strings.TrimSuffix(filepath.Base(f), ".json"), n, p, l, float64(l-p)/float64(n), k, float64(k-p)/float64(n), d, float64(d-p)/float64(n))
	}
}

func cloneHistory(h *historypb.History) *historypb.History {
	return proto.Clone(h).(*historypb.History)
}

// sealEach replaces every payload of h the codec seals with seal's; it
// returns how many.
func sealEach(t *testing.T, h *historypb.History, seal func([]*commonpb.Payload) ([]*commonpb.Payload, error)) int {
	n := 0
	payloads.EachEncoded(h.ProtoReflect(), func(p *commonpb.Payload) {
		n++
		out, err := seal([]*commonpb.Payload{p})
		require.NoError(t, err)
		if string(p.Metadata["encoding"]) == "json/plain" && len(p.Metadata) == 1 &&
			string(out[0].Metadata["encoding"]) == codec.EncodingSealed {
			require.LessOrEqual(t, len(out[0].Data), header("payload-1")+1+len(p.Data)+nonceAndTag, "a json/plain payload is sealed compact, or smaller")
		}
		proto.Reset(p)
		proto.Merge(p, out[0])
	})
	return n
}

func readHistory(t *testing.T, path string) *historypb.History {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var h historypb.History
	require.NoError(t, protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, &h), path)
	return &h
}
