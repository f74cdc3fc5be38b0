package tracing

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

func TestSettings(t *testing.T) {
	env := func(kv map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
	}
	for _, c := range []struct {
		name string
		env  map[string]string
		on   bool
		err  string
	}{
		{"nothing set", nil, false, ""},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318"}, true, ""},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://localhost:4318/v1/traces"}, true, ""},
		{"file", map[string]string{"FOUREYES_TRACES_FILE": "x.jsonl"}, true, ""},
		{"disabled", map[string]string{"OTEL_SDK_DISABLED": "true", "FOUREYES_TRACES_FILE": "x.jsonl"}, false, ""},
		{"exporter none", map[string]string{"OTEL_TRACES_EXPORTER": "none", "FOUREYES_TRACES_FILE": "x.jsonl"}, false, ""},
		{"exporter otlp", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true, ""},
		{"exporter zipkin", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, false, "OTEL_TRACES_EXPORTER"},
		{"protocol", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, false, "OTEL_EXPORTER_OTLP_PROTOCOL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := FromEnv(env(c.env))
			require.Equal(t, c.on, s.Enabled())
			if c.err == "" {
				require.NoError(t, s.Check())
			} else {
				require.ErrorContains(t, s.Check(), c.err)
			}
		})
	}
}

// TestFileRoundTrip: spans written by Start's file exporter are read back
// by ReadSpans, with their service, parent and attributes; the log
// handler names the span of a line's context; the interceptor is there
// once tracing is on. (Global state: the one test that starts tracing.)
func TestFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	before, err := Interceptors()
	require.NoError(t, err)
	require.Empty(t, before, "no interceptor before Start")

	stop, err := Start(context.Background(), Settings{File: filepath.Join(dir, "p.jsonl")}, "foureyes-test")
	require.NoError(t, err)
	require.True(t, On())
	after, err := Interceptors()
	require.NoError(t, err)
	require.Len(t, after, 1)

	var logs bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&logs, nil)))
	ctx, root := Tracer().Start(context.Background(), "root", trace.WithAttributes(attribute.String("foureyes.release", "r-1")))
	_, child := Tracer().Start(ctx, "child")
	log.InfoContext(ctx, "with span")
	log.Info("without")
	child.End()
	root.End()
	require.NoError(t, stop(context.Background()), "flushes")
	require.False(t, On(), "off again once stopped")

	spans, err := ReadSpans(dir)
	require.NoError(t, err)
	require.Len(t, spans, 2)
	byName := map[string]Span{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	r, c := byName["root"], byName["child"]
	require.Equal(t, root.SpanContext().TraceID().String(), r.TraceID)
	require.Equal(t, r.TraceID, c.TraceID)
	require.Equal(t, r.SpanID, c.ParentID)
	require.Empty(t, r.ParentID)
	require.Equal(t, "foureyes-test", r.Service)
	require.Equal(t, "r-1", r.Release())
	require.False(t, r.End.Before(r.Start))

	require.Contains(t, logs.String(), `msg="with span" TraceID=`+r.TraceID+` SpanID=`+r.SpanID)
	require.Contains(t, logs.String(), "msg=without\n")
}

// TestHeaderAndTraceparent: the header the SDK's interceptor writes (a
// JSON map under _tracer-data) and the memo's traceparent give back the
// span context.
func TestHeaderAndTraceparent(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5},
		TraceFlags: trace.FlagsSampled})
	tp := Traceparent(sc)
	require.Equal(t, "00-01020300000000000000000000000000-0405000000000000-01", tp)
	require.Equal(t, sc.TraceID(), FromTraceparent(tp).TraceID())
	require.False(t, FromTraceparent("nonsense").IsValid())
	require.Empty(t, Traceparent(trace.SpanContext{}))

	p, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"traceparent": tp})
	require.NoError(t, err)
	got, ok := FromHeader(&commonpb.Header{Fields: map[string]*commonpb.Payload{HeaderKey: p}})
	require.True(t, ok)
	require.Equal(t, sc.TraceID(), got.TraceID())
	require.Equal(t, sc.SpanID(), got.SpanID())
	_, ok = FromHeader(&commonpb.Header{})
	require.False(t, ok, "an untraced start")
	_, ok = FromHeader(nil)
	require.False(t, ok)
}
