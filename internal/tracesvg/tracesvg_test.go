package tracesvg

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/tracing"
)

// TestRender: a child follows its parent (indented), a span whose parent
// is missing is drawn as a root, names are escaped, every service is in
// the legend.
func TestRender(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	spans := []tracing.Span{
		{Name: "RunActivity:Deploy", TraceID: "t", SpanID: "c", ParentID: "b", Service: "foureyes-deploy", Start: t0.Add(2 * time.Second), End: t0.Add(3 * time.Second)},
		{Name: "starter start", TraceID: "t", SpanID: "a", Service: "foureyes-starter", Start: t0, End: t0.Add(time.Second)},
		{Name: "StartWorkflow:<Release>", TraceID: "t", SpanID: "b", ParentID: "a", Service: "foureyes-starter", Start: t0, End: t0.Add(time.Second)},
		{Name: "orphan", TraceID: "t", SpanID: "d", ParentID: "gone", Service: "foureyes-orchestrator", Start: t0.Add(time.Second), End: t0.Add(4 * time.Second)},
		{Name: "other trace", TraceID: "u", SpanID: "e", Service: "x", Start: t0, End: t0},
	}
	var b bytes.Buffer
	require.NoError(t, Render(&b, OfTrace(spans, "t"), "release r"))
	svg := b.String()
	order := []string{"starter: starter start", "  starter: StartWorkflow:&lt;Release&gt;", "    deploy: RunActivity:Deploy", "orchestrator: orphan"}
	last := -1
	for _, s := range order {
		i := strings.Index(svg, `xml:space="preserve">`+s+"<")
		require.Greater(t, i, last, "%q after the row before it", s)
		last = i
	}
	require.NotContains(t, svg, "other trace")
	for _, svc := range []string{"foureyes-starter", "foureyes-orchestrator", "foureyes-deploy"} {
		require.Contains(t, svg, ">"+svc+"</text>")
	}
	require.Error(t, Render(&b, nil, "empty"))
}
