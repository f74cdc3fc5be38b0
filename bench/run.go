package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// A phase is one part of the run; phases run in this order, floor first.
type phase struct {
	name string
	run  func(ctx context.Context, r *rig, rep *report, log io.Writer) error
}

var phases = []phase{
	{"latency", runLatency},
	{"throughput", runThroughput},
	{"slack", runSlack},
	{"scale", runScale},
}

func phaseNames() []string {
	var names []string
	for _, p := range phases {
		names = append(names, p.name)
	}
	return names
}

func runLatency(ctx context.Context, r *rig, rep *report, log io.Writer) error {
	fl, err := measureLatency(ctx, r, &floor{r}, r.cfg.releases, log)
	if err != nil {
		return err
	}
	ours, err := measureLatency(ctx, r, newFoureyes(r), r.cfg.releases, log)
	if err != nil {
		return err
	}
	rep.percentileRows("decision → next stage's activity started", ours.all, fl.all, "≤ 1.25×")
	for _, g := range gates {
		rep.percentileRows("… "+g+" gate only", ours.byGate[g], fl.byGate[g], "")
	}
	rep.percentileRows("submission answered (gateway: signal + outcome query; floor: SignalWorkflow)", ours.answers, fl.answers, "")
	return nil
}

func runThroughput(ctx context.Context, r *rig, rep *report, log io.Writer) error {
	n := r.cfg.releases
	fmt.Fprintf(log, "bench: floor throughput: %d releases at once\n", n)
	fl, err := measureThroughput(ctx, &floor{r}, n)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	fmt.Fprintf(log, "bench: foureyes throughput: %d releases at once\n", n)
	profiled := profileCPU(ctx, r.cfg, "throughput", 20)
	ours, err := measureThroughput(ctx, newFoureyes(r), n)
	<-profiled
	if err != nil {
		return fmt.Errorf("foureyes: %w", err)
	}
	rep.row(fmt.Sprintf("throughput, %d releases started at once (releases/s)", n),
		fmt.Sprintf("%.1f", ours.rate()), fmt.Sprintf("%.1f", fl.rate()), ratio(fl.rate(), ours.rate())+" (floor/foureyes)", "≤ 1.25×")
	for _, p := range []float64{50, 99} {
		o, f := pct(ours.e2e, p), pct(fl.e2e, p)
		rep.row(fmt.Sprintf("end to end p%.0f (s)", p), secs(o), secs(f), ratio(float64(o), float64(f)), "")
	}
	return nil
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }
