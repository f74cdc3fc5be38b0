package main

import (
	"fmt"
	"time"
)

// Rounds: the latency and throughput phases run foureyes and the floor
// alternately, in rounds (-rounds), and report each round with the load
// average at its start, then the spread across rounds: on a shared machine
// a ratio means something only between runs of the same rounds.

// throughputRound is one round of the throughput phase: each system's run
// (by name), the load average at its start and at its end.
type throughputRound struct {
	res           map[string]throughputResult
	load, loadEnd string
}

// latencyRoundRows reports the API decision → next activity p50 and p99 of
// each round, the load average at its start, and the spread of the rounds'
// p50 (min–max) with the spread of their ratios.
func latencyRoundRows(rep *report, rounds []latencyRound) {
	var ours, fl, ratios []float64
	for k, rd := range rounds {
		o, f := rd.res[1].all, rd.res[0].all // foureyes' bot API, the floor
		for _, p := range []float64{50, 99} {
			rep.row(fmt.Sprintf("latency round %d of %d (load %s): API decision → next activity p%.0f (ms, n=%d)", k+1, len(rounds), rd.load, p, len(o)),
				ms(pct(o, p)), ms(pct(f, p)), ratio(float64(pct(o, p)), float64(pct(f, p))), "")
		}
		o50, f50 := msf(pct(o, 50)), msf(pct(f, 50))
		ours, fl = append(ours, o50), append(fl, f50)
		if f50 > 0 {
			ratios = append(ratios, o50/f50)
		}
	}
	rep.row(fmt.Sprintf("spread across %d latency rounds: API decision → next activity p50, min–max (ms)", len(rounds)),
		spread(ours, "%.1f"), spread(fl, "%.1f"), spread(ratios, "%.2f"), "")
}

// throughputRoundRows reports each round's throughput, end-to-end p50 and
// CPU per release with its load average, then the spread across rounds.
func throughputRoundRows(rep *report, rounds []throughputRound, n int) {
	var rates, frates, p50s, fp50s, ratios []float64
	for k, rd := range rounds {
		o, f := rd.res["foureyes"], rd.res["floor"]
		what := fmt.Sprintf("throughput round %d of %d (load %s → %s)", k+1, len(rounds), rd.load, rd.loadEnd)
		rep.row(what+fmt.Sprintf(": %d releases at once (releases/s)", n), fmt.Sprintf("%.1f", o.rate()),
			fmt.Sprintf("%.1f", f.rate()), ratio(f.rate(), o.rate())+" (floor/foureyes)", "")
		op, fp := pct(o.e2e, 50), pct(f.e2e, 50)
		rep.row(what+": end to end p50 (s)", secs(op), secs(fp), ratio(float64(op), float64(fp)), "")
		so, sf := perRelease(o, "server"), perRelease(f, "server")
		wo, wf := perRelease(o, "foureyes"), perRelease(f, "floor")
		rep.row(what+": CPU per release, server / workers (ms)", fmt.Sprintf("%.0f / %.0f", so, wo),
			fmt.Sprintf("%.0f / %.0f", sf, wf), ratio(so, sf)+" / "+ratio(wo, wf), "")
		rates, frates = append(rates, o.rate()), append(frates, f.rate())
		p50s, fp50s = append(p50s, op.Seconds()), append(fp50s, fp.Seconds())
		if o.rate() > 0 {
			ratios = append(ratios, f.rate()/o.rate())
		}
	}
	rep.row(fmt.Sprintf("spread across %d throughput rounds: releases/s, min–max", len(rounds)),
		spread(rates, "%.1f"), spread(frates, "%.1f"), spread(ratios, "%.2f")+" (floor/foureyes)", "")
	rep.row(fmt.Sprintf("spread across %d throughput rounds: end to end p50, min–max (s)", len(rounds)),
		spread(p50s, "%.2f"), spread(fp50s, "%.2f"), "", "")
}

func perRelease(t throughputResult, process string) float64 {
	if t.n == 0 {
		return 0
	}
	return 1000 * t.cpu[process] / float64(t.n)
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// spread is "min–max" of vs in format f ("—" for none).
func spread(vs []float64, f string) string {
	if len(vs) == 0 {
		return "—"
	}
	lo, hi := vs[0], vs[0]
	for _, v := range vs {
		lo, hi = min(lo, v), max(hi, v)
	}
	return fmt.Sprintf(f+"–"+f, lo, hi)
}
