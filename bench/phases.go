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
	paths   []path            // each decision's hops, from the history
	pathsOf map[string][]path // by gate
	history historySize
}

// measureLatency runs the latency phase in rounds (-rounds; n releases of
// each system split among them): each round starts its releases of every
// system, then decides each gate of each release one at a time, gap apart,
// taking the systems in turn, as given in odd rounds and reversed in even
// ones (floor, foureyes; foureyes, floor; …), so that the machine's load
// weighs on all alike. It reads from the history when the next stage's
// activity started; results are per round, with the load average at each
// round's start.
func measureLatency(ctx context.Context, r *rig, systems []system, n int, log io.Writer) ([]latencyRound, error) {
	rounds := max(1, min(r.cfg.rounds, n))
	var out []latencyRound
	for k := range rounds {
		per := n/rounds + boolInt(k < n%rounds)
		order := orderOf(len(systems), k)
		inOrder := make([]system, len(systems))
		for i, j := range order {
			inOrder[i] = systems[j]
		}
		round := latencyRound{load: loadAvg()}
		fmt.Fprintf(log, "bench: latency round %d of %d: %d releases of each system, load %s\n", k+1, rounds, per, round.load)
		res, err := measureLatencyRound(ctx, r, inOrder, per, log)
		if err != nil {
			return nil, fmt.Errorf("round %d: %w", k+1, err)
		}
		round.res = make([]latencyResult, len(systems))
		for i, j := range order {
			round.res[j] = res[i]
		}
		out = append(out, round)
	}
	return out, nil
}

// latencyRound is one round of the latency phase: each system's result,
// in the order measureLatency was given them, and the load average at the
// round's start.
type latencyRound struct {
	res  []latencyResult
	load string
}

// orderOf is the order of n systems in round k (from 0): as given in even
// rounds, reversed in odd ones.
func orderOf(n, k int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
		if k%2 == 1 {
			out[i] = n - 1 - i
		}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// merged is every round's result of system i: the samples together, the
// history averaged over the rounds.
func merged(rounds []latencyRound, i int) latencyResult {
	out := latencyResult{byGate: map[string][]time.Duration{}, pathsOf: map[string][]path{}}
	for _, rd := range rounds {
		res := rd.res[i]
		out.all = append(out.all, res.all...)
		out.answers = append(out.answers, res.answers...)
		out.paths = append(out.paths, res.paths...)
		for g, v := range res.byGate {
			out.byGate[g] = append(out.byGate[g], v...)
		}
		for g, v := range res.pathsOf {
			out.pathsOf[g] = append(out.pathsOf[g], v...)
		}
		out.history = out.history.plus(res.history, 1/float64(len(rounds)))
	}
	return out
}

// measureLatencyRound starts n releases of each system, then decides each
// gate of each release one at a time, gap apart, taking the systems in turn.
func measureLatencyRound(ctx context.Context, r *rig, systems []system, n int, log io.Writer) ([]latencyResult, error) {
	ids := make([][]string, len(systems))
	for i, sys := range systems {
		var err error
		if ids[i], _, err = startAll(ctx, sys, n, 16); err != nil {
			return nil, fmt.Errorf("%s: start: %w", sys.name(), err)
		}
	}
	samples := make([][]sample, len(systems))
	for _, gate := range gates {
		for i, sys := range systems {
			if err := waitPrompts(ctx, sys, ids[i], gate); err != nil {
				return nil, err
			}
		}
		fmt.Fprintf(log, "bench: latency: %d releases of each system at the %s gate\n", n, gate)
		if err := decideInTurn(ctx, r, systems, ids, gate, samples); err != nil {
			return nil, err
		}
	}
	return latencyResults(ctx, r, systems, ids, samples)
}

// decideInTurn decides gate for the k-th release of every system, then the
// k+1-th, gap after each decision.
func decideInTurn(ctx context.Context, r *rig, systems []system, ids [][]string, gate string, samples [][]sample) error {
	for k := range ids[0] {
		for i, sys := range systems {
			s, err := decideTimed(ctx, sys, ids[i][k], gate)
			if err != nil {
				return fmt.Errorf("%s: decide %s: %w", sys.name(), gate, err)
			}
			samples[i] = append(samples[i], s)
			if err := sleep(ctx, r.cfg.gap); err != nil {
				return err
			}
		}
	}
	return nil
}

func latencyResults(ctx context.Context, r *rig, systems []system, ids [][]string, samples [][]sample) ([]latencyResult, error) {
	out := make([]latencyResult, len(systems))
	for i, sys := range systems {
		if err := waitResults(ctx, sys, ids[i]); err != nil {
			return nil, err
		}
		lat, paths, err := latencies(ctx, r, sys, samples[i])
		if err != nil {
			return nil, err
		}
		hist, err := measureHistories(ctx, r.Client, ids[i][:min(20, len(ids[i]))])
		if err != nil {
			return nil, err
		}
		res := latencyResult{byGate: map[string][]time.Duration{}, all: lat, paths: paths, history: hist,
			pathsOf: map[string][]path{}}
		for j, s := range samples[i] {
			res.byGate[s.gate] = append(res.byGate[s.gate], lat[j])
			res.pathsOf[s.gate] = append(res.pathsOf[s.gate], paths[j])
			res.answers = append(res.answers, s.answer)
		}
		out[i] = res
	}
	return out, nil
}

// throughputResult: n releases started at once and driven to the end.
type throughputResult struct {
	n       int
	elapsed time.Duration
	e2e     []time.Duration
	cpu     map[string]float64 // CPU seconds per process (cpuSpent)
}

func (t *throughputResult) rate() float64 { return float64(t.n) / t.elapsed.Seconds() }

// add sums rounds: releases, time and end-to-end samples.
func (t *throughputResult) add(o throughputResult) *throughputResult {
	if t == nil {
		return &o
	}
	cpu := map[string]float64{}
	for k, v := range o.cpu {
		cpu[k] = t.cpu[k] + v
	}
	return &throughputResult{n: t.n + o.n, elapsed: t.elapsed + o.elapsed, e2e: append(t.e2e, o.e2e...), cpu: cpu}
}

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
