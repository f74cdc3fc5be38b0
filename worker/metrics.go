package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sethvargo/go-envconfig"
	"github.com/uber-go/tally/v4"
	"github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"

	"github.com/foureyes/foureyes/config"
)

// metricBuckets (seconds) span SDK latencies (milliseconds) up to gate waits
// (days).
var metricBuckets = []float64{0.005, 0.025, 0.1, 0.25, 1, 5, 15, 60, 300, 900, 3600,
	4 * 3600, 12 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600}

// metrics is one role's Prometheus registry: the SDK's worker and client
// metrics and, on the orchestrator, the foureyes_* metrics the workflow emits.
type metrics struct {
	handler client.MetricsHandler
	http    http.Handler
	closer  io.Closer
}

// newMetrics builds a tally scope reporting to a Prometheus registry of its
// own, with Prometheus names (_total, _seconds) and histograms for timers.
func newMetrics(role string, log *slog.Logger) *metrics {
	registry := prom.NewRegistry() // per process: no global state
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reporter := prometheus.NewReporter(prometheus.Options{
		Registerer:              registry,
		DefaultTimerType:        prometheus.HistogramTimerType,
		DefaultHistogramBuckets: metricBuckets,
		// The default panics when one name is used with two tag sets.
		OnRegisterError: func(err error) { log.Debug("metric not registered", "error", err) },
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:         reporter,
		Separator:              prometheus.DefaultSeparator,
		SanitizeOptions:        &sdktally.PrometheusSanitizeOptions,
		Tags:                   map[string]string{"role": role},
		OmitCardinalityMetrics: true,
	}, time.Second)
	scope = sdktally.NewPrometheusNamingScope(scope)
	return &metrics{handler: sdktally.NewMetricsHandler(scope), http: reporter.HTTPHandler(), closer: closer}
}

// mux serves /metrics.
func (m *metrics) mux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.http)
	return mux
}

// setupMetrics reads FOUREYES_<ROLE>_METRICS_LISTEN and, when set, sends the
// client's (and so the worker's and workflows') metrics to a registry.
func (p *process) setupMetrics(ctx context.Context, l envconfig.Lookuper) error {
	mc, err := config.LoadMetrics(ctx, p.name, l)
	if err != nil || mc.Listen == "" {
		return err
	}
	p.metrics, p.metricsListen = newMetrics(p.name, p.log), mc.Listen
	p.opts.MetricsHandler = p.metrics.handler
	return nil
}

// serveMetrics listens (a taken port fails the start) and serves /metrics
// until the returned stop is called.
func (p *process) serveMetrics() (stop func(), err error) {
	if p.metrics == nil {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", p.metricsListen)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	srv := &http.Server{Handler: p.metrics.mux(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			p.log.Warn("metrics endpoint stopped", "error", err)
		}
	}()
	p.metricsAddr = ln.Addr().String()
	p.log.Info("metrics listening", "addr", "http://"+p.metricsAddr+"/metrics")
	return func() { _ = srv.Close(); _ = p.metrics.closer.Close() }, nil
}
