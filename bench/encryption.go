package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// runEncryption measures foureyes with payload encryption on against
// foureyes with it off, on the same server in the same run: rounds in the
// order on, off, off, on, … (so that drift in the machine's load and the
// growing SQLite file weigh on both alike). Before each round every role
// restarts with the round's setting, and so does the bench's own client
// (devstack.Local.PlaintextPayloads): off, no process of foureyes holds a
// payload key and every payload is written as plain JSON. Each round times
// decisions one at a time (decision → next stage's activity started, as
// the latency phase) and then drives -releases releases at once
// (throughput). The rows: on in the "foureyes" column, off in the "floor"
// one, and on/off as the ratio.
func runEncryption(ctx context.Context, r *rig, rep *report, log io.Writer) error {
	n := r.cfg.releases
	type sums struct {
		lat, e2e []time.Duration
		thr      *throughputResult
	}
	got := map[bool]*sums{true: {}, false: {}}
	defer func() { // leave the stack as it was: encrypted
		if r.Local.PlaintextPayloads {
			_ = payloadsOn(ctx, r, true)
		}
	}()
	for i, on := range encryptionOrder(r.cfg.rounds) {
		if err := payloadsOn(ctx, r, on); err != nil {
			return err
		}
		fmt.Fprintf(log, "bench: encryption round %d: %s, %d releases\n", i+1, onOff(on), n)
		sys := newFoureyes(r)
		lat, err := measureLatencyRound(ctx, r, []system{sys}, n, log)
		if err != nil {
			return fmt.Errorf("encryption %s: latency: %w", onOff(on), err)
		}
		thr, err := measureThroughput(ctx, sys, n)
		if err != nil {
			return fmt.Errorf("encryption %s: throughput: %w", onOff(on), err)
		}
		s := got[on]
		s.lat = append(s.lat, lat[0].all...)
		s.thr = s.thr.add(thr)
	}
	on, off := got[true], got[false]
	rep.note("encryption phase: the \"foureyes\" column is payload encryption and tracing on, the \"floor\" column both off (same server, rounds on, off, off, on…; the roles restart between rounds)")
	rep.percentileRows("encryption on vs off: API decision → next stage's activity started", on.lat, off.lat, "≤ 1.10×")
	rep.row(fmt.Sprintf("encryption on vs off: throughput, %d releases at once, %d rounds each (releases/s)", n, r.cfg.rounds),
		fmt.Sprintf("%.1f", on.thr.rate()), fmt.Sprintf("%.1f", off.thr.rate()), ratio(off.thr.rate(), on.thr.rate())+" (off/on)", "≤ 1.10×")
	for _, p := range []float64{50, 99} {
		o, f := pct(on.thr.e2e, p), pct(off.thr.e2e, p)
		rep.row(fmt.Sprintf("encryption on vs off: end to end p%.0f (s, n=%d)", p, len(on.thr.e2e)), secs(o), secs(f), ratio(float64(o), float64(f)), "")
	}
	o50, o99, f50, f99 := pct(on.lat, 50), pct(on.lat, 99), pct(off.lat, 50), pct(off.lat, 99)
	rep.goal("encryption on against off: decision → next activity", "≤ 1.10× at p50 and p99",
		ratio(float64(o50), float64(f50))+" / "+ratio(float64(o99), float64(f99)),
		within(float64(o50), float64(f50), 1.10) && within(float64(o99), float64(f99), 1.10))
	rep.goal("encryption on against off: throughput", "off/on ≤ 1.10×",
		ratio(off.thr.rate(), on.thr.rate()), within(off.thr.rate(), on.thr.rate(), 1.10))
	return nil
}

// encryptionOrder: on, off, off, on, … two rounds per -rounds.
func encryptionOrder(rounds int) []bool {
	var out []bool
	for i := range rounds {
		if i%2 == 0 {
			out = append(out, true, false)
		} else {
			out = append(out, false, true)
		}
	}
	return out
}

// payloadsOn restarts every role, and redials the bench's client, with
// payload encryption and tracing on or off.
func payloadsOn(ctx context.Context, r *rig, on bool) error {
	if r.Local.PlaintextPayloads == !on && r.Local.Untraced == !on && r.Client != nil {
		return nil
	}
	// Both of issue 28's costs at once: payloads encrypted and every role
	// tracing (spans to the stack's data/traces/), or neither.
	r.Local.PlaintextPayloads, r.Local.Untraced = !on, !on
	r.Local.StopRoles()
	if err := r.StartRoles(ctx); err != nil {
		return fmt.Errorf("restarting the roles with encryption %s: %w", onOff(on), err)
	}
	r.http.CloseIdleConnections() // the gateway restarted with its role
	return nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
