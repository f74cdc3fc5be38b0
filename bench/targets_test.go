package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGoalsAreMarkedMetOrMissed(t *testing.T) {
	r := newReport(config{})
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	r.latencyGoals("decision", ms(10, 11, 12), ms(10, 11, 12)) // p50 11 ms, p99 12 ms, 1.00×
	r.answerGoal("slow answer", ms(20, 20, 20))                // p50 20 ms > 15
	r.latencyGoals("decision", ms(10, 11, 40), ms(10, 11, 12)) // p99 40 ms: both latency goals missed
	var out strings.Builder
	r.printGoals(&out)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Contains(t, lines[2], "✔ met")
	require.Contains(t, lines[3], "✔ met")
	require.Contains(t, lines[4], "✘ missed")
	require.Contains(t, lines[5], "✘ missed")
	require.Contains(t, lines[6], "✘ missed")
	require.Contains(t, out.String(), "targets met: 2 of 5")
}
