package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/internal/devstack"
)

// setupMetrics gives each role a Prometheus endpoint: --metrics-port and
// the four ports after it, free ports when 0, none when negative.
func (s *stack) setupMetrics() error {
	if s.local.Extra == nil {
		s.local.Extra = map[string][]string{}
	}
	s.metrics = map[string]string{}
	for i, role := range roleNames {
		addr := ""
		if port, err := s.metricsPort(i); err != nil {
			return err
		} else if port > 0 {
			addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			s.metrics[role] = "http://" + addr + "/metrics"
		}
		s.local.Extra[role] = append(s.local.Extra[role], config.Prefix(role)+"METRICS_LISTEN="+addr)
	}
	return nil
}

func (s *stack) metricsPort(i int) (int, error) {
	switch {
	case s.cfg.metricsPort < 0:
		return 0, nil
	case s.cfg.metricsPort == 0:
		return devstack.FreePort()
	}
	return s.cfg.metricsPort + i, nil
}

// deployedRelease is the counter line of at least one deployed release.
var deployedRelease = regexp.MustCompile(`(?m)^foureyes_releases_total\{[^}]*outcome="deployed"[^}]*\} [1-9]`)

// foureyesMetrics polls url until the foureyes_* lines match want (the SDK
// reports every second), and returns those lines.
func foureyesMetrics(ctx context.Context, url string, want *regexp.Regexp) ([]string, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		lines, err := scrape(ctx, url)
		if err == nil && want.MatchString(strings.Join(lines, "\n")) {
			return lines, nil
		}
		if time.Now().After(deadline) {
			return lines, fmt.Errorf("%s: no %s after 15s (error %v)", url, want, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// scrape returns the foureyes_* sample lines of a /metrics page.
func scrape(ctx context.Context, url string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var lines []string
	for sc := bufio.NewScanner(bytes.NewReader(body)); sc.Scan(); {
		if strings.HasPrefix(sc.Text(), "foureyes_") {
			lines = append(lines, sc.Text())
		}
	}
	return lines, nil
}

// showMetrics prints the orchestrator's foureyes counters and histogram
// counts, as curl would show them, and fails when the release is not there.
func (d *demo) showMetrics(ctx context.Context) error {
	url, ok := d.s.metrics["orchestrator"]
	if !ok {
		return nil
	}
	fmt.Fprintf(d.s.out, "\n$ curl -s %s | grep -E '^foureyes_.*(_total|_count)'\n", url)
	lines, err := foureyesMetrics(ctx, url, deployedRelease)
	for _, l := range lines {
		if strings.Contains(l, "_total{") || strings.Contains(l, "_count{") {
			fmt.Fprintf(d.s.out, "  %s\n", l)
		}
	}
	return err
}
