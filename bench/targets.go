package main

import (
	"fmt"
	"io"
	"time"
)

// A goal is one of the targets the bench checks (issue 15's), with what
// was measured and whether it was met. Goals are reported, never asserted:
// a bench run on a busy machine says "missed", it does not fail.
type goal struct {
	name, target, measured string
	met                    bool
}

func (r *report) goal(name, target, measured string, met bool) {
	r.goals = append(r.goals, goal{name, target, measured, met})
}

// printGoals writes the targets table: each target marked met or missed.
func (r *report) printGoals(w io.Writer) {
	if len(r.goals) == 0 {
		return
	}
	fmt.Fprintf(w, "\n| target | goal | measured | |\n|---|---|---|---|\n")
	met := 0
	for _, g := range r.goals {
		mark := "✘ missed"
		if g.met {
			mark, met = "✔ met", met+1
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", g.name, g.target, g.measured, mark)
	}
	fmt.Fprintf(w, "\ntargets met: %d of %d\n", met, len(r.goals))
}

// latencyGoals: decision → next activity p50 ≤ 12 ms and p99 ≤ 30 ms, and
// within 1.10× of the floor at p50 and p99.
func (r *report) latencyGoals(what string, ours, floor []time.Duration) {
	o50, o99, f50, f99 := pct(ours, 50), pct(ours, 99), pct(floor, 50), pct(floor, 99)
	r.goal(what, "p50 ≤ 12 ms, p99 ≤ 30 ms",
		ms(o50)+" / "+ms(o99)+" ms", o50 <= 12*time.Millisecond && o99 <= 30*time.Millisecond)
	r.goal("… against the floor", "≤ 1.10× at p50 and p99",
		ratio(float64(o50), float64(f50))+" / "+ratio(float64(o99), float64(f99)),
		within(float64(o50), float64(f50), 1.10) && within(float64(o99), float64(f99), 1.10))
}

// answerGoal: the gateway's answer to a caller, p50 ≤ 15 ms.
func (r *report) answerGoal(what string, answers []time.Duration) {
	p50 := pct(answers, 50)
	r.goal(what, "p50 ≤ 15 ms", ms(p50)+" ms", len(answers) > 0 && p50 <= 15*time.Millisecond)
}

// within reports whether ours is at most limit times floor.
func within(ours, floor, limit float64) bool { return floor > 0 && ours <= limit*floor }
