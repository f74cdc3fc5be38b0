package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary serve as the floor roles, as the bench
// binary does: the smoke test starts them with os.Executable().
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "-role" && strings.HasPrefix(os.Args[2], floorRolePrefix) {
		os.Exit(runFloorRole(os.Args[2]))
	}
	os.Exit(m.Run())
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	assert.Equal(t, time.Duration(5), pct(ds, 50))
	assert.Equal(t, time.Duration(10), pct(ds, 99))
	assert.Equal(t, time.Duration(1), pct(ds, 1))
	assert.Equal(t, time.Duration(0), pct(nil, 50))
}

func TestPromptParsers(t *testing.T) {
	parse := parseConsolePrompt()
	var got [][2]string
	for _, line := range strings.Split("==== foureyes: review needed ====\n  release:   r1\n"+
		"==== foureyes: reminder: approval still needed ====\n  release:   r2\n"+
		"==== foureyes: approval needed ====\n  service:   x\n  release:   r3\n", "\n") {
		if id, gate, ok := parse(line); ok {
			got = append(got, [2]string{id, gate})
		}
	}
	assert.Equal(t, [][2]string{{"r1", "review"}, {"r3", "approval"}}, got)
	id, gate, ok := parseFloorPrompt("prompt wf-1 approval")
	assert.True(t, ok)
	assert.Equal(t, [2]string{"wf-1", "approval"}, [2]string{id, gate})
	_, _, ok = parseFloorPrompt("time=... level=INFO msg=started")
	assert.False(t, ok)
}

func TestWatcherFollowsAppends(t *testing.T) {
	path := t.TempDir() + "/approval.log"
	require.NoError(t, os.WriteFile(path, []byte("prompt a review\npro"), 0o644))
	w := watch(path, parseFloorPrompt)
	defer w.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, w.wait(ctx, "a", "review"))
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, _ = f.WriteString("mpt b approval\n")
	f.Close()
	require.NoError(t, w.wait(ctx, "b", "approval"))
	assert.Equal(t, 1, w.promptCount("review"))
	assert.False(t, w.isPrompted("a", "approval"))
}

// The clicks the bench sends pass slack-go's verifier with the secret.
func TestSlackClickIsSigned(t *testing.T) {
	req, err := slackClick(context.Background(), "http://127.0.0.1:1", "release-x", "review", time.Now())
	require.NoError(t, err)
	body, _ := io.ReadAll(req.Body)
	v, err := slack.NewSecretsVerifier(req.Header, slackSecret)
	require.NoError(t, err)
	_, _ = v.Write(body)
	require.NoError(t, v.Ensure())
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Contains(t, string(body), "foureyes_approve")
}

// TestBenchSmoke runs every phase with tiny counts on the real server:
// a correctness check of the bench, not a measurement.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server and ten role processes")
	}
	metrics := filepath.Join(t.TempDir(), "server")
	b := runBench(t, "-releases", "2", "-rounds", "1", "-open", "4",
		"-scale-decisions", "2", "-slack", "2", "-gap", "10ms", "-server-metrics", metrics)
	for _, want := range []string{"API decision", "hop 1: decision sent", "hop 5: activity scheduled", "Slack click", "throughput", "encryption on vs off", "scale: releases open", "cancel all",
		// per round, with the load average, and the spread across rounds
		"latency round 1 of 1 (load ", "spread across 1 latency rounds", "throughput round 1 of 1 (load ", "spread across 1 throughput rounds",
		"history bytes per event type per finished release, foureyes: ", "UpsertWorkflowSearchAttributes"} {
		assert.Contains(t, b.String(), want)
	}
	for _, ph := range defaultPhases() {
		prom, err := os.ReadFile(metrics + "-" + ph + ".prom")
		if assert.NoError(t, err, "-server-metrics after phase %s", ph) {
			assert.Contains(t, string(prom), "syncmatch_latency_bucket", "the server's matching metrics after phase %s", ph)
		}
	}
}

// The systems alternate: floor first in odd rounds, foureyes first in even
// ones (floor, foureyes, foureyes, floor…), so load drift weighs on both.
func TestRoundsAlternate(t *testing.T) {
	assert.Equal(t, []int{0, 1, 2, 3}, orderOf(4, 0))
	assert.Equal(t, []int{3, 2, 1, 0}, orderOf(4, 1))
	assert.Equal(t, []int{0, 1}, orderOf(2, 2))
	r := &rig{}
	var names []string
	for k := range 3 {
		for _, sys := range pairOrder(r, k) {
			names = append(names, sys.name())
		}
	}
	assert.Equal(t, []string{"floor", "foureyes", "foureyes", "floor", "floor", "foureyes"}, names)
}

func TestSpread(t *testing.T) {
	assert.Equal(t, "1.5–9.0", spread([]float64{3, 9, 1.5}, "%.1f"))
	assert.Equal(t, "2.00–2.00", spread([]float64{2}, "%.2f"))
	assert.Equal(t, "—", spread(nil, "%.1f"))
}

// Each system's samples of every round are merged; the history averages.
func TestMergedRounds(t *testing.T) {
	round := func(d time.Duration, upserts float64) latencyRound {
		return latencyRound{res: []latencyResult{{all: []time.Duration{d}, byGate: map[string][]time.Duration{"review": {d}},
			history: historySize{upserts: upserts}}}}
	}
	m := merged([]latencyRound{round(1, 4), round(2, 6)}, 0)
	assert.Equal(t, []time.Duration{1, 2}, m.all)
	assert.Equal(t, []time.Duration{1, 2}, m.byGate["review"])
	assert.InDelta(t, 5, m.history.upserts, 1e-9)
}

func TestHistoryTypeLine(t *testing.T) {
	h := historySize{byType: map[string]typeSize{"A": {2, 100}, "B": {1, 300}}}
	assert.Equal(t, "B 1 events 300 B, A 2 events 100 B", h.typeLine())
	avg := historySize{byType: map[string]typeSize{}}.plus(h, 0.5)
	assert.Equal(t, "B 0 events 150 B, A 1 events 50 B", avg.typeLine())
}

// TestBenchRestartSmoke runs the restart phase with tiny counts: the
// server is restarted on its own data and the roles carry on after it.
func TestBenchRestartSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server twice and ten role processes")
	}
	b := runBench(t, "-phases", "restart", "-releases", "2")
	assert.Contains(t, b.String(), "restart round 2, before the restart (load ")
	assert.Contains(t, b.String(), "restart round 6, after the restart, round 4 (load ")
}

// runBench runs the bench with args (at most 4 minutes) and returns its report.
func runBench(t *testing.T, args ...string) *strings.Builder {
	cfg, err := parseFlags(args, io.Discard)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rep, err := bench(ctx, cfg, io.Discard)
	require.NoError(t, err)
	var b strings.Builder
	rep.print(&b)
	return &b
}
