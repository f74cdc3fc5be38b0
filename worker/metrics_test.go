package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMetricsEndpoint: a role with FOUREYES_<ROLE>_METRICS_LISTEN serves
// what goes through its client's metrics handler, with Prometheus names and
// the role label.
func TestMetricsEndpoint(t *testing.T) {
	p := &process{name: "orchestrator", log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	l := envconfig.MapLookuper(map[string]string{"FOUREYES_ORCHESTRATOR_METRICS_LISTEN": "127.0.0.1:0"})
	require.NoError(t, p.setupMetrics(context.Background(), l))
	require.NotNil(t, p.opts.MetricsHandler)
	h := p.opts.MetricsHandler.WithTags(map[string]string{"outcome": "deployed"})
	h.Counter("foureyes_releases").Inc(2)
	h.Timer("foureyes_gate_wait").Record(90 * time.Minute)
	stop, err := p.serveMetrics()
	require.NoError(t, err)
	defer stop()
	url := "http://" + p.metricsAddr + "/metrics"
	var body string
	require.Eventually(t, func() bool { // the scope reports every second
		body = get(t, url)
		return strings.Contains(body, `foureyes_releases_total{outcome="deployed",role="orchestrator"} 2`)
	}, 5*time.Second, 100*time.Millisecond, body)
	assert.Contains(t, body, `foureyes_gate_wait_seconds_bucket{outcome="deployed",role="orchestrator",le="14400"} 1`)
	assert.Contains(t, body, "go_goroutines")
}

func TestMetricsOffByDefault(t *testing.T) {
	p := &process{name: "build", log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	require.NoError(t, p.setupMetrics(context.Background(), envconfig.MapLookuper(nil)))
	assert.Nil(t, p.opts.MetricsHandler)
	stop, err := p.serveMetrics()
	require.NoError(t, err)
	stop()
}

func get(t *testing.T, url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
