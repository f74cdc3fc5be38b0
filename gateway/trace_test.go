package gateway

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/tracing"
)

// TestDecisionJoinsReleaseTrace: with tracing on, a decision's span is a
// child of the release's root span named in its memo, the call to
// Temporal carries that trace (so does its log line: config.NewLogger's
// handler; e2e TestOneTracePerRelease), and the
// caller's own traceparent is a link, not the parent. Without a memo the
// span starts a trace of its own.
func TestDecisionJoinsReleaseTrace(t *testing.T) {
	file := filepath.Join(t.TempDir(), "approval.jsonl")
	stop, err := tracing.Start(context.Background(), tracing.Settings{File: file}, "foureyes-approval")
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = stop(context.Background())
		}
	})

	release := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0xaa, 1}, SpanID: trace.SpanID{0xbb, 2},
		TraceFlags: trace.FlagsSampled})
	callerTP := "00-cc000000000000000000000000000003-dd00000000000004-01"
	tp, err := converter.GetDefaultDataConverter().ToPayload(tracing.Traceparent(release))
	require.NoError(t, err)
	f := newFixture(t, &fakeClient{memo: map[string]*commonpb.Payload{tracing.MemoKey: tp}})

	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/decisions", strings.NewReader(goodBody))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tokenAlice)
	req.Header.Set("traceparent", callerTP)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.Equal(t, []string{release.TraceID().String()}, f.fake.signalTraces, "the signal is sent in the release's trace")

	require.NoError(t, stop(context.Background()))
	stopped = true
	spans, err := tracing.ReadSpanFile(file)
	require.NoError(t, err)
	require.Len(t, spans, 1)
	sp := spans[0]
	require.Equal(t, "gateway decide", sp.Name)
	require.Equal(t, release.TraceID().String(), sp.TraceID)
	require.Equal(t, release.SpanID().String(), sp.ParentID, "child of the release's root span")
	require.Equal(t, "release-api-prod-1", sp.Release())
	require.Equal(t, "alice", sp.Attrs["foureyes.identity"])
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Contains(t, string(raw), "cc000000000000000000000000000003", "the caller's trace is linked")
	require.NotContains(t, string(raw), "lgtm", "no comment leaves in a span")
}

// TestNoTracingNoSpan: tracing off, the gateway neither describes the
// release nor puts a span in the call's context.
func TestNoTracingNoSpan(t *testing.T) {
	require.False(t, tracing.On())
	f := newFixture(t, &fakeClient{describeErr: errUnexpected})
	code, _, _ := f.do(t, http.MethodPost, "Bearer "+tokenAlice, goodBody)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, []string{trace.TraceID{}.String()}, f.fake.signalTraces)
}

var errUnexpected = errorString("unexpected call")

type errorString string

func (e errorString) Error() string { return string(e) }
