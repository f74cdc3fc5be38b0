// Command bench measures foureyes against the floor that Temporal itself
// sets, side by side in one run on the embedded server: decision latency,
// release throughput, thousands of open releases, Slack acknowledgement time.
//
//	go run ./bench [flags]        (or go run ./stack bench [flags])
//
// It starts the server, the five foureyes roles and the five floor roles
// in a temporary folder, prints a markdown table, and removes everything it
// started, within -timeout. See docs/benchmarks.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/foureyes/foureyes/internal/devstack"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-role" && strings.HasPrefix(os.Args[2], floorRolePrefix) {
		os.Exit(runFloorRole(os.Args[2]))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, out, log io.Writer) int {
	cfg, err := parseFlags(args, log)
	if err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.timeout, errTimeout)
	defer cancel()
	rep, err := bench(ctx, cfg, log)
	rep.print(out)
	if err != nil {
		fmt.Fprintf(log, "bench: FAILED: %v\n", err)
		return 1
	}
	return 0
}

// bench starts the rig, runs the chosen phases and always stops the rig.
func bench(ctx context.Context, cfg config, log io.Writer) (*report, error) {
	rep := newReport(cfg)
	server, err := devstack.EnsureTemporalServer(cfg.root, log)
	if err != nil {
		return rep, err
	}
	cfg.server = server
	r, err := startRig(ctx, cfg, log)
	if err != nil {
		return rep, err
	}
	defer r.close()
	rep.noteMachine()
	for _, ph := range phases {
		if !cfg.phases[ph.name] {
			continue
		}
		fmt.Fprintf(log, "bench: phase %s\n", ph.name)
		if err := ph.run(ctx, r, rep, log); err != nil {
			return rep, fmt.Errorf("phase %s: %w", ph.name, withRig(r, err))
		}
		saveServerMetrics(ctx, cfg, ph.name, log)
	}
	return rep, nil
}

// withRig adds a crashed process's log to err.
func withRig(r *rig, err error) error {
	if cerr := r.check(); cerr != nil {
		return fmt.Errorf("%w; %v", err, cerr)
	}
	return err
}
