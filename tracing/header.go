package tracing

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// FromHeader is the span context a Temporal header carries (HeaderKey,
// JSON {"traceparent": ...}), if any. Headers are never encrypted.
func FromHeader(h *commonpb.Header) (trace.SpanContext, bool) {
	p := h.GetFields()[HeaderKey]
	if p == nil {
		return trace.SpanContext{}, false
	}
	var carrier map[string]string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &carrier); err != nil {
		return trace.SpanContext{}, false
	}
	sc := trace.SpanContextFromContext(Propagator.Extract(context.Background(), mapCarrier(carrier)))
	return sc, sc.IsValid()
}

// MemoKey is the memo field where `starter start` puts the W3C traceparent
// of the release's root span: the gateway, which may not read histories,
// finds the release's trace there (DescribeWorkflowExecution).
const MemoKey = "traceparent"

// Traceparent is the W3C traceparent of sc ("" if invalid).
func Traceparent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	m := mapCarrier{}
	Propagator.Inject(trace.ContextWithSpanContext(context.Background(), sc), m)
	return m["traceparent"]
}

// FromTraceparent parses a W3C traceparent (invalid if it is none).
func FromTraceparent(s string) trace.SpanContext {
	return trace.SpanContextFromContext(Propagator.Extract(context.Background(), mapCarrier{"traceparent": s}))
}

// OfRelease is the span context in the start event of workflow id: the
// starter's StartWorkflow span, parent of everything the release does. ok
// is false when the release was started without tracing.
func OfRelease(ctx context.Context, c client.Client, id string) (sc trace.SpanContext, ok bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // the iterator fetches no further page
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return sc, false, nil
	}
	ev, err := it.Next()
	if err != nil {
		return sc, false, err
	}
	sc, ok = FromHeader(ev.GetWorkflowExecutionStartedEventAttributes().GetHeader())
	return sc, ok, nil
}

type mapCarrier map[string]string

func (m mapCarrier) Get(k string) string { return m[k] }
func (m mapCarrier) Set(k, v string)     { m[k] = v }
func (m mapCarrier) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// LogHandler adds TraceID and SpanID (the names the SDK's workflow and
// activity loggers use) to every record logged with a context that holds
// a span: the gateway's lines about a decision carry the release's trace.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String("TraceID", sc.TraceID().String()), slog.String("SpanID", sc.SpanID().String()))
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(as)}
}
func (l logHandler) WithGroup(name string) slog.Handler { return logHandler{l.Handler.WithGroup(name)} }
