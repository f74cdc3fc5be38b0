package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// latencyResult holds decision-to-next-activity durations per gate and the
// time the submission took to return (the gateway's answer; SignalWorkflow
// for the floor).
type latencyResult struct {
	byGate  map[string][]time.Duration
	all     []time.Duration
	answers []time.Duration
}

// measureLatency starts n releases, then decides each gate of each release
// one at a time, gap apart, and reads when the next stage's activity started.
func measureLatency(ctx context.Context, r *rig, sys system, n int, log io.Writer) (latencyResult, error) {
	res := latencyResult{byGate: map[string][]time.Duration{}}
	ids, _, err := startAll(ctx, sys, n, 16)
	if err != nil {
		return res, fmt.Errorf("%s: start: %w", sys.name(), err)
	}
	var samples []sample
	for _, gate := range gates {
		if err := waitPrompts(ctx, sys, ids, gate); err != nil {
			return res, err
		}
		fmt.Fprintf(log, "bench: %s latency: %d releases at the %s gate\n", sys.name(), n, gate)
		s, err := decideEach(ctx, sys, ids, gate, r.cfg.gap)
		if err != nil {
			return res, fmt.Errorf("%s: decide %s: %w", sys.name(), gate, err)
		}
		samples = append(samples, s...)
	}
	if err := waitResults(ctx, sys, ids); err != nil {
		return res, err
	}
	lat, err := latencies(ctx, r, sys, samples)
	for i, s := range samples {
		res.byGate[s.gate] = append(res.byGate[s.gate], lat[i])
		res.answers = append(res.answers, s.answer)
	}
	res.all = lat
	return res, err
}

// throughputResult: n releases started at once and driven to the end.
type throughputResult struct {
	n       int
	elapsed time.Duration
	e2e     []time.Duration
}

func (t throughputResult) rate() float64 { return float64(t.n) / t.elapsed.Seconds() }

// measureThroughput starts n releases at once; each is driven by its own
// bot, which answers each prompt as soon as it appears.
func measureThroughput(ctx context.Context, sys system, n int) (throughputResult, error) {
	res := throughputResult{n: n, e2e: make([]time.Duration, n)}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	t0 := time.Now()
	err := forEach(ctx, idx, n, func(ctx context.Context, i int) error {
		s := time.Now()
		err := driveOne(ctx, sys, newReleaseID())
		res.e2e[i] = time.Since(s)
		return err
	})
	res.elapsed = time.Since(t0)
	return res, err
}

// driveOne runs one release from start to end.
func driveOne(ctx context.Context, sys system, id string) error {
	if err := sys.start(ctx, id); err != nil {
		return err
	}
	for _, gate := range gates {
		if err := sys.prompts().wait(ctx, id, gate); err != nil {
			return err
		}
		if err := sys.decide(ctx, id, gate); err != nil {
			return err
		}
	}
	return sys.result(ctx, id)
}
