package gateway

import (
	"context"
	"net/http"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/tracing"
)

// A decision or cancel that arrives over HTTP (or Slack) joins its
// release's trace: the gateway's span is a child of the release's root
// span, `starter start`, whose W3C traceparent the starter put in the
// release's memo (tracing.MemoKey; read once per release with
// DescribeWorkflowExecution, which the approval role may call, and decoded
// with the role's own payload key). So the Update it sends, the workflow's
// handling of it, and what the release does next sit in the one trace an
// operator opens for the release. A parent, not a link: the decision is a
// step of the release, and what it causes (the next gate's prompt, the
// deploy) must be in the release's trace too, which a link would leave in
// another. The caller's own trace, when its request carries a W3C
// traceparent (a traced client or proxy), is linked: a person's click is
// not part of anybody else's trace, and one batch request decides several
// releases, each with its own trace. A release started without tracing
// (no memo) gets a gateway span in a trace of its own, naming the release.

// traceCache keeps each release's root span (bounded like the bindings;
// an untraced release is kept too, as invalid, so it is described once).
type traceCache struct {
	mu sync.Mutex
	m  map[string]trace.SpanContext
}

func (c *traceCache) get(release string) (trace.SpanContext, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sc, ok := c.m[release]
	return sc, ok
}

func (c *traceCache) put(release string, sc trace.SpanContext) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]trace.SpanContext{}
	}
	for id := range c.m {
		if len(c.m) < maxBindings {
			break
		}
		delete(c.m, id)
	}
	c.m[release] = sc
}

// withCallerTrace puts the W3C trace context of an incoming request, if
// any, in its context (to be linked by inRelease).
func withCallerTrace(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tracing.On() && r.Header.Get("traceparent") != "" {
			r = r.WithContext(tracing.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
		}
		next.ServeHTTP(w, r)
	})
}

// inRelease starts the gateway's span "gateway <op>" in release's trace;
// end records the answer's status and ends it. Without tracing it does
// nothing.
func (s *Server) inRelease(ctx context.Context, op, release string) (context.Context, func(status int, attrs ...attribute.KeyValue)) {
	if !tracing.On() {
		return ctx, func(int, ...attribute.KeyValue) {}
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("foureyes.release", release))}
	if caller := trace.SpanContextFromContext(ctx); caller.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: caller,
			Attributes: []attribute.KeyValue{attribute.String("foureyes.link", "caller")}}))
	}
	parent := trace.SpanContext{}
	if sc, ok := s.releaseTrace(ctx, release); ok {
		parent = sc
	}
	// The release's start span is the parent; with none (a release
	// started untraced, or an unknown id) the span starts its own trace.
	ctx = trace.ContextWithRemoteSpanContext(ctx, parent)
	ctx, span := tracing.Tracer().Start(ctx, "gateway "+op, opts...)
	return ctx, func(status int, attrs ...attribute.KeyValue) {
		span.SetAttributes(append(attrs, attribute.Int("http.response.status_code", status))...)
		if status >= http.StatusInternalServerError {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		span.End()
	}
}

// releaseTrace is release's root span, from its memo (cached).
func (s *Server) releaseTrace(ctx context.Context, release string) (trace.SpanContext, bool) {
	if sc, ok := s.traces.get(release); ok {
		return sc, sc.IsValid()
	}
	ctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	defer cancel()
	desc, err := s.client.DescribeWorkflowExecution(ctx, release, "")
	if err != nil {
		// Unknown release or Temporal unreachable: the decision will say.
		return trace.SpanContext{}, false
	}
	var sc trace.SpanContext
	if p := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()[tracing.MemoKey]; p != nil {
		var traceparent string
		if err := s.dc.FromPayload(p, &traceparent); err == nil {
			sc = tracing.FromTraceparent(traceparent)
		}
	}
	s.traces.put(release, sc)
	return sc, sc.IsValid()
}

// decisionAttrs describe a decision on its span: who, where, which gate,
// what came of it (never the comment: a span leaves the process).
func decisionAttrs(c caller, req api.DecisionRequest, ans api.Answer) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("foureyes.identity", c.identity),
		attribute.String("foureyes.channel", c.channel), attribute.String("foureyes.gate", req.Gate),
		attribute.String("foureyes.verdict", req.Verdict), attribute.String("foureyes.outcome", ans.Outcome)}
}
