// Package tracing gives every foureyes process one OpenTelemetry trace per
// release: a tracer provider built from the standard OTEL_* variables (an
// OTLP exporter for a collector such as Jaeger) or a JSON-lines file of
// spans (FOUREYES_TRACES_FILE, what the stack writes under data/traces/),
// and the Temporal SDK's tracing interceptor for every client and worker.
//
// The trace context travels in Temporal headers (W3C traceparent under the
// header key "_tracer-data"), which the payload codec does not encrypt:
// they carry ids, never release data (docs/DESIGN.md, "Payload encryption").
package tracing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// HeaderKey is the Temporal header that carries the trace context (the
// key every Temporal SDK uses).
const HeaderKey = "_tracer-data"

// Name is the instrumentation scope of foureyes' own spans.
const Name = "github.com/foureyes/foureyes"

// Settings are the standard OTEL_* variables foureyes reads itself, and
// FOUREYES_TRACES_FILE. The OTLP exporters read the rest of theirs
// (OTEL_EXPORTER_OTLP_HEADERS, _INSECURE, _TIMEOUT, ...) from the
// environment, the sampler reads OTEL_TRACES_SAMPLER, the resource
// OTEL_RESOURCE_ATTRIBUTES.
type Settings struct {
	// Disabled (OTEL_SDK_DISABLED=true): no spans, no interceptor.
	Disabled bool
	// Exporter (OTEL_TRACES_EXPORTER): otlp, console or none. Empty: otlp
	// when an OTLP endpoint is set, else the file when one is set, else
	// none. (The specification's default is otlp to localhost; foureyes
	// exports nothing unless told where, so that a process without a
	// collector does not log export errors.)
	Exporter string
	// Endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or
	// OTEL_EXPORTER_OTLP_ENDPOINT) says a collector is configured.
	Endpoint string
	// Protocol (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
	// OTEL_EXPORTER_OTLP_PROTOCOL): grpc or http/protobuf (the default).
	Protocol string
	// ServiceName (OTEL_SERVICE_NAME); empty: the process's own name.
	ServiceName string
	// File (FOUREYES_TRACES_FILE): spans appended as JSON lines
	// (stdouttrace's format), beside or instead of OTLP.
	File string
}

// FromEnv reads the settings with lookup (os.LookupEnv when nil).
func FromEnv(lookup func(string) (string, bool)) Settings {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	get := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := lookup(k); ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	return Settings{
		Disabled:    strings.EqualFold(get("OTEL_SDK_DISABLED"), "true"),
		Exporter:    strings.ToLower(get("OTEL_TRACES_EXPORTER")),
		Endpoint:    get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
		Protocol:    strings.ToLower(get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")),
		ServiceName: get("OTEL_SERVICE_NAME"),
		File:        get("FOUREYES_TRACES_FILE"),
	}
}

// exporters are what s sends spans to; none means tracing is off.
func (s Settings) exporters() (otlp, file, console bool, err error) {
	if s.Disabled {
		return false, false, false, nil
	}
	switch s.Exporter {
	case "":
		return s.Endpoint != "", s.File != "", false, nil
	case "otlp":
		return true, s.File != "", false, nil
	case "console":
		return false, s.File != "", true, nil
	case "none":
		return false, false, false, nil
	}
	return false, false, false, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported (want otlp, console or none)", s.Exporter)
}

// Check reports a setting that Start would refuse.
func (s Settings) Check() error {
	if _, _, _, err := s.exporters(); err != nil {
		return err
	}
	switch s.Protocol {
	case "", "grpc", "http/protobuf":
		return nil
	}
	return fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL: %q is not supported (want grpc or http/protobuf)", s.Protocol)
}

// Enabled reports whether s exports spans anywhere.
func (s Settings) Enabled() bool {
	otlp, file, console, err := s.exporters()
	return err == nil && (otlp || file || console)
}

var (
	mu     sync.Mutex
	active *sdktrace.TracerProvider
)

// Start installs the process's tracer provider (process names the service
// when OTEL_SERVICE_NAME does not) as the OpenTelemetry global, with the W3C
// trace-context propagator. Shutdown flushes what is left; call it before
// exit. With nothing to export, Start installs nothing and Interceptors is
// empty: the process neither traces nor forwards trace context.
func Start(ctx context.Context, s Settings, process string) (shutdown func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	if err := s.Check(); err != nil {
		return noop, err
	}
	otlp, file, console, _ := s.exporters()
	if !otlp && !file && !console {
		return noop, nil
	}
	var opts []sdktrace.TracerProviderOption
	var closers []io.Closer
	if otlp {
		exp, err := otlpExporter(ctx, s.Protocol)
		if err != nil {
			return noop, err
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	if file {
		f, err := openFile(s.File)
		if err != nil {
			return noop, err
		}
		closers = append(closers, f)
		exp, err := stdouttrace.New(stdouttrace.WithWriter(f))
		if err != nil {
			return noop, err
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	if console {
		exp, err := stdouttrace.New(stdouttrace.WithWriter(os.Stdout))
		if err != nil {
			return noop, err
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	name := s.ServiceName
	if name == "" {
		name = process
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", name)))
	if err != nil {
		return noop, err
	}
	if fromEnv, err := resource.New(ctx, resource.WithFromEnv()); err == nil { // OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME
		if merged, err := resource.Merge(res, fromEnv); err == nil {
			res = merged
		}
	}
	tp := sdktrace.NewTracerProvider(append(opts, sdktrace.WithResource(res))...)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(Propagator)
	mu.Lock()
	active = tp
	mu.Unlock()
	return func(ctx context.Context) error {
		mu.Lock()
		if active == tp {
			active = nil // On is false again (tests start and stop tracing)
			otel.SetTracerProvider(tracenoop.NewTracerProvider())
		}
		mu.Unlock()
		err := tp.Shutdown(ctx)
		for _, c := range closers {
			err = errors.Join(err, c.Close())
		}
		return err
	}, nil
}

// Propagator carries trace context (and baggage) as W3C headers, the
// Temporal interceptor's default.
var Propagator = temporalotel.DefaultTextMapPropagator

func otlpExporter(ctx context.Context, protocol string) (sdktrace.SpanExporter, error) {
	if protocol == "grpc" {
		exp, err := otlptracegrpc.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTLP gRPC trace exporter: %w", err)
		}
		return exp, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTLP HTTP trace exporter: %w", err)
	}
	return exp, nil
}

// openFile opens path for appending spans (several runs of the starter
// share one file), making its folder.
func openFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("FOUREYES_TRACES_FILE: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("FOUREYES_TRACES_FILE: %w", err)
	}
	return f, nil
}

// On reports whether Start installed a tracer provider in this process.
func On() bool {
	mu.Lock()
	defer mu.Unlock()
	return active != nil
}

// Tracer is foureyes' own tracer (the global provider's: a no-op one when
// tracing is off).
func Tracer() trace.Tracer { return otel.Tracer(Name) }

// Interceptors are the Temporal client interceptors of this process: the
// SDK's OpenTelemetry tracing interceptor once Start installed a provider,
// none otherwise. On a client they trace its calls; a worker made from that
// client takes them too (workflow, update, signal and activity spans, and
// TraceID and SpanID on the workflow and activity loggers).
//
// Queries are not traced: they change nothing, and the gateway, the UI, the
// CLI and the tests poll them, which would bury a release's trace under
// hundreds of spans.
func Interceptors() ([]interceptor.ClientInterceptor, error) {
	if !On() {
		return nil, nil
	}
	i, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:              otel.Tracer("temporal-sdk-go"),
		DisableQueryTracing: true,
	})
	if err != nil {
		return nil, err
	}
	return []interceptor.ClientInterceptor{i}, nil
}
