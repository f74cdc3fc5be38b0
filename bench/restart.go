package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// The restart phase (issue 26, item 5): throughput rounds of both systems
// on the server as the earlier phases left it, then the server is stopped
// and started again on its own SQLite file (the stack's data/temporal, as
// `go run ./stack` restarted on its data/ does), then more rounds. Each
// round is reported with its load and the server's CPU per release, so a
// restarted server's cost shows against the rounds just before it.

// restartRoundsBefore and restartRoundsAfter: rounds before the restart
// (the last one is the baseline) and after it (enough to see a cost that
// lasts "for a while").
const (
	restartRoundsBefore = 2
	restartRoundsAfter  = 4
)

// reconnectPause lets the roles' pollers find the restarted server before
// a round is timed (their reconnection is not the server's cost).
const reconnectPause = 5 * time.Second

func runRestart(ctx context.Context, r *rig, rep *report, log io.Writer) error {
	if r.Local.Cluster != nil {
		return errors.New("the restart phase runs on the dev server only (its SQLite file)")
	}
	for k := range restartRoundsBefore + restartRoundsAfter {
		if k == restartRoundsBefore {
			if err := restartServer(ctx, r, log); err != nil {
				return err
			}
		}
		rd, err := restartRound(ctx, r, k, log)
		if err != nil {
			return err
		}
		restartRow(rep, rd, k)
	}
	return nil
}

// restartServer stops the Temporal server and starts it again on the same
// data folder and port.
func restartServer(ctx context.Context, r *rig, log io.Writer) error {
	fmt.Fprintf(log, "bench: restart: stopping the server (pid %d), load %s\n", r.Local.Server.Pid(), loadAvg())
	if err := r.Local.Server.Stop(); err != nil {
		return fmt.Errorf("stopping the server: %w", err)
	}
	start := time.Now()
	if err := r.Local.StartServer(ctx, r.Server); err != nil {
		return fmt.Errorf("restarting the server on its own data: %w", err)
	}
	fmt.Fprintf(log, "bench: restart: server healthy again after %s (pid %d)\n", time.Since(start).Round(time.Millisecond), r.Local.Server.Pid())
	return sleep(ctx, reconnectPause)
}

// restartRound is one throughput round of each system (floor first in
// even rounds), the server profiled (-profile) while each runs.
func restartRound(ctx context.Context, r *rig, k int, log io.Writer) (throughputRound, error) {
	rd := throughputRound{load: loadAvg(), res: map[string]throughputResult{}}
	for i, sys := range pairOrder(r, k) {
		fmt.Fprintf(log, "bench: restart round %d: %s, %d releases at once, load %s\n", k+1, sys.name(), r.cfg.releases, loadAvg())
		profiled := profileCPU(ctx, r.cfg, fmt.Sprintf("restart-%d-%s", 2*k+i, sys.name()), 10, "server")
		before := r.cpu()
		res, err := measureThroughput(ctx, sys, r.cfg.releases)
		res.cpu = cpuSpent(before, r.cpu())
		<-profiled
		if err != nil {
			return rd, fmt.Errorf("restart round %d, %s: %w", k+1, sys.name(), err)
		}
		rd.res[sys.name()] = res
	}
	rd.loadEnd = loadAvg()
	return rd, nil
}

func restartRow(rep *report, rd throughputRound, k int) {
	when := "before the restart"
	if k >= restartRoundsBefore {
		when = fmt.Sprintf("after the restart, round %d", k-restartRoundsBefore+1)
	}
	o, f := rd.res["foureyes"], rd.res["floor"]
	so, sf := perRelease(o, "server"), perRelease(f, "server")
	rep.row(fmt.Sprintf("restart round %d, %s (load %s → %s): server CPU per release (ms); releases/s", k+1, when, rd.load, rd.loadEnd),
		fmt.Sprintf("%.0f; %.1f", so, o.rate()), fmt.Sprintf("%.0f; %.1f", sf, f.rate()), ratio(so, sf), "")
}
