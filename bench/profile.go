package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/foureyes/foureyes/internal/devstack"
)

// profiledRoles are foureyes' roles whose pprof endpoints -profile turns
// on: the three that spend most CPU per release. The floor's roles have none.
var profiledRoles = []string{"orchestrator", "approval", "deploy"}

// profiled are the processes -profile profiles: those roles and the
// Temporal server (its CPU per release bounds throughput).
var profiled = append(append([]string{}, profiledRoles...), "server")

// profiledDuring is what to profile while sys runs: only the server for the
// floor (foureyes' roles sit idle then).
func profiledDuring(sys system) []string {
	if _, ok := sys.(*floor); ok {
		return []string{"server"}
	}
	return profiled
}

func pprofPorts() (map[string]string, error) {
	m := map[string]string{}
	for _, role := range profiled {
		p, err := devstack.FreePort()
		if err != nil {
			return nil, err
		}
		m[role] = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	}
	return m, nil
}

// profileCPU starts a CPU profile of seconds on the given processes (of
// profiled) in the background; wait for the returned channel to have the
// files written.
func profileCPU(ctx context.Context, cfg config, tag string, seconds int, processes ...string) <-chan struct{} {
	done := make(chan struct{})
	if cfg.profile == "" {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		for _, p := range processes {
			go fetchProfile(ctx, cfg, p, fmt.Sprintf("profile?seconds=%d", seconds), tag+"-"+p+".cpu.pprof")
		}
		_ = sleep(ctx, (secondsDur(seconds + 3)))
	}()
	return done
}

// profileHeap writes a heap profile of every profiled role now.
func profileHeap(ctx context.Context, cfg config, tag string) {
	for _, role := range profiled {
		if cfg.profile != "" {
			fetchProfile(ctx, cfg, role, "heap", tag+"-"+role+".heap.pprof")
			fetchProfile(ctx, cfg, role, "heap?debug=1", tag+"-"+role+".heap.txt") // with runtime.MemStats
			fetchProfile(ctx, cfg, role, "goroutine?debug=1", tag+"-"+role+".goroutines.txt")
		}
	}
}

func fetchProfile(ctx context.Context, cfg config, role, what, file string) {
	if err := os.MkdirAll(cfg.profile, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "bench: profile: %v\n", err)
		return
	}
	url := "http://" + cfg.pprof[role] + "/debug/pprof/" + what
	if err := download(ctx, url, filepath.Join(cfg.profile, file)); err != nil {
		fmt.Fprintf(os.Stderr, "bench: profile: %v\n", err)
	}
}

// saveServerMetrics writes the server's Prometheus metrics (cumulative since
// it started) to PREFIX-PHASE.prom, with -server-metrics.
func saveServerMetrics(ctx context.Context, cfg config, phase string, log io.Writer) {
	if cfg.serverMetrics == "" {
		return
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", cfg.metricsPort)
	if err := download(ctx, url, cfg.serverMetrics+"-"+phase+".prom"); err != nil {
		fmt.Fprintf(log, "bench: server metrics: %v\n", err)
	}
}

// download writes what a GET of url answers with 200 to file.
func download(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return f.Close()
}
