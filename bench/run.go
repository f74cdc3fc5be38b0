package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	roles "github.com/foureyes/foureyes/config"
)

// A phase is one part of the run; phases run in this order, floor first.
type phase struct {
	name string
	run  func(ctx context.Context, r *rig, rep *report, log io.Writer) error
	// onRequest: run only when -phases names it (not in the default run).
	onRequest bool
}

var phases = []phase{
	{"latency", runLatency, false},
	{"throughput", runThroughput, false},
	{"encryption", runEncryption, false},
	{"slack", runSlack, false},
	{"scale", runScale, false},
	{"restart", runRestart, true},
}

func phaseNames() []string {
	var names []string
	for _, p := range phases {
		names = append(names, p.name)
	}
	return names
}

// defaultPhases are the phases a run without -phases runs.
func defaultPhases() []string {
	var names []string
	for _, p := range phases {
		if !p.onRequest {
			names = append(names, p.name)
		}
	}
	return names
}

// runLatency times decisions through the gateway's bot API and through
// signed Slack clicks against plain signals to the floor.
func runLatency(ctx context.Context, r *rig, rep *report, log io.Writer) error {
	api := newFoureyes(r)
	rounds, err := measureLatency(ctx, r, []system{&floor{r}, api, viaSlack{api}, newOwnSigned(r)}, r.cfg.releases, log)
	if err != nil {
		return err
	}
	fl, ours, slack, own := merged(rounds, 0), merged(rounds, 1), merged(rounds, 2), merged(rounds, 3)
	latencyRoundRows(rep, rounds)
	rep.percentileRows("API decision → next stage's activity started", ours.all, fl.all, "p50 ≤ 12 ms, p99 ≤ 30 ms, ≤ 1.10×")
	rep.hopRows("", ours.paths, fl.paths)
	for _, g := range gates {
		rep.percentileRows("… "+g+" gate only", ours.byGate[g], fl.byGate[g], "")
		rep.hopRows(g+" gate ", ours.pathsOf[g], fl.pathsOf[g])
	}
	rep.percentileRows("Slack click → next stage's activity started", slack.all, fl.all, "p50 ≤ 12 ms, p99 ≤ 30 ms, ≤ 1.10×")
	rep.percentileRows("gateway answer (API: the decide Update's result; floor: SignalWorkflow returns)", ours.answers, fl.answers, "p50 ≤ 15 ms")
	rep.percentileRows("own-signed decision → next activity (ratio: against the gateway-signed API decision)", own.all, ours.all, "≤ 1.10×")
	rep.percentileRows("own-signed decision's gateway answer (ratio: against the gateway-signed one)", own.answers, ours.answers, "")
	rep.percentileRows("Slack acknowledgement, one click at a time", slack.answers, nil, "p99 < 100 ms")
	rep.historyRows(ours.history, fl.history)
	rep.latencyGoals("API decision → next activity started", ours.all, fl.all)
	rep.latencyGoals("Slack click → next activity started", slack.all, fl.all)
	rep.answerGoal("gateway answer, bot API (the decide Update's result)", ours.answers)
	rep.answerGoal("gateway answer, Slack click (acknowledgement)", slack.answers)
	return nil
}

// runThroughput drives releases started at once, in rounds of one run of
// each system, ordered floor, foureyes in odd rounds and foureyes, floor in
// even ones (floor, foureyes, foureyes, floor, …), so that drift in the
// machine's load and the growing SQLite file weigh on both alike. Each
// round is reported with its load average; the ratios come from the sums
// of the same rounds.
func runThroughput(ctx context.Context, r *rig, rep *report, log io.Writer) error {
	n := r.cfg.releases
	var rounds []throughputRound
	for k := range max(1, r.cfg.rounds) {
		rd := throughputRound{load: loadAvg(), res: map[string]throughputResult{}}
		for i, sys := range pairOrder(r, k) {
			fmt.Fprintf(log, "bench: throughput round %d: %s, %d releases at once, load %s\n", k+1, sys.name(), n, loadAvg())
			profiled := profileCPU(ctx, r.cfg, fmt.Sprintf("throughput-%d-%s", 2*k+i, sys.name()), 20, profiledDuring(sys)...)
			before := r.cpu()
			res, err := measureThroughput(ctx, sys, n)
			res.cpu = cpuSpent(before, r.cpu())
			<-profiled
			if err != nil {
				return fmt.Errorf("%s: %w", sys.name(), err)
			}
			rd.res[sys.name()] = res
		}
		rd.loadEnd = loadAvg()
		rounds = append(rounds, rd)
	}
	var ours, fl *throughputResult
	for _, rd := range rounds {
		ours, fl = ours.add(rd.res["foureyes"]), fl.add(rd.res["floor"])
	}
	throughputRoundRows(rep, rounds, n)
	cpuRows(rep, ours, fl)
	rep.row(fmt.Sprintf("throughput, %d releases started at once, %d rounds (releases/s)", n, len(rounds)),
		fmt.Sprintf("%.1f", ours.rate()), fmt.Sprintf("%.1f", fl.rate()), ratio(fl.rate(), ours.rate())+" (floor/foureyes)", "≤ 1.10×")
	rep.goal(fmt.Sprintf("throughput, %d releases at once", n), "floor/foureyes ≤ 1.10×",
		ratio(fl.rate(), ours.rate()), within(fl.rate(), ours.rate(), 1.10))
	wo, wf := 1000*ours.cpu["foureyes"]/float64(ours.n), 1000*fl.cpu["floor"]/float64(fl.n)
	rep.goal("workers' CPU per release", "≤ 1.20× the floor's", fmt.Sprintf("%.0f / %.0f ms = %s", wo, wf, ratio(wo, wf)), within(wo, wf, 1.20))
	for _, p := range []float64{50, 99} {
		o, f := pct(ours.e2e, p), pct(fl.e2e, p)
		rep.row(fmt.Sprintf("end to end p%.0f (s, n=%d)", p, len(ours.e2e)), secs(o), secs(f), ratio(float64(o), float64(f)), "")
	}
	return nil
}

// pairOrder is round k's (from 0) order: floor, foureyes when k is even,
// foureyes, floor when it is odd.
func pairOrder(r *rig, k int) []system {
	pair := []system{&floor{r}, newFoureyes(r)}
	if k%2 == 1 {
		return []system{pair[1], pair[0]}
	}
	return pair
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

// cpuSpent is the CPU seconds each process used between two readings.
func cpuSpent(before, after map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		out[k] = v - before[k]
	}
	return out
}

// cpuRows reports CPU per release: the server's and the workers' (the
// system's own roles), and each foureyes role's.
func cpuRows(rep *report, ours, fl *throughputResult) {
	per := func(t *throughputResult, k string) float64 { return 1000 * t.cpu[k] / float64(t.n) }
	rep.row("CPU per release in the throughput phase: Temporal server (ms)", fmt.Sprintf("%.0f", per(ours, "server")),
		fmt.Sprintf("%.0f", per(fl, "server")), ratio(per(ours, "server"), per(fl, "server")), "")
	rep.row("CPU per release: the system's workers (ms)", fmt.Sprintf("%.0f", per(ours, "foureyes")),
		fmt.Sprintf("%.0f", per(fl, "floor")), ratio(per(ours, "foureyes"), per(fl, "floor")), "")
	var parts []string
	for _, role := range roles.Roles {
		parts = append(parts, fmt.Sprintf("%s %.0f", role, per(ours, role)))
	}
	rep.note("foureyes CPU per release by role (ms): %s", strings.Join(parts, ", "))
}
