package faults

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/slackrec"
)

// clusterTargets are the cluster's processes the suite SIGKILLs (then
// restarts) mid-release, one a round, in turn.
var clusterTargets = []string{"history", "matching", "postgres"}

// TestClusterFaults runs the fault suite on the production shape: the
// roles on PostgreSQL and four Temporal services with mTLS. Role kills as
// on the dev server, then rounds where history, matching or PostgreSQL is
// SIGKILLed mid-release and restarted. In CI a short version
// (FOUREYES_CLUSTER_FAULT_ROUNDS=1 role round, 3 crash rounds); `make
// cluster-faults` runs more.
func TestClusterFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, four Temporal services and the roles")
	}
	s := startClusterStack(t, "the cluster fault suite")
	clusterFaults(t, s)
}

// clusterFaults: the role rounds of faults(), then a crash round per
// clusterTargets entry (FOUREYES_CLUSTER_CRASH_ROUNDS of them).
func clusterFaults(t *testing.T, s *stackT) {
	seed := uint64(knob("FOUREYES_FAULT_SEED", int(time.Now().UnixNano()%1e6)))
	t.Logf("seed %d (FOUREYES_FAULT_SEED=%d reproduces the schedule)", seed, seed)
	f := newFaultRun(s, seed)
	n := knob("FOUREYES_FAULT_RELEASES", 6)
	f.roleRounds(t, n, knob("FOUREYES_CLUSTER_FAULT_ROUNDS", 1))
	targets := clusterTargets
	if v := os.Getenv("FOUREYES_CLUSTER_TARGETS"); v != "" { // e.g. postgres: one target only
		targets = strings.Split(v, ",")
	}
	for i := range knob("FOUREYES_CLUSTER_CRASH_ROUNDS", len(clusterTargets)) {
		target := targets[i%len(targets)]
		f.round(t, n, func(ctx context.Context, _ []*release, held func()) {
			defer held()
			f.crash(ctx, target, f.jitter(500, 3000))
		})
	}
	f.report(t)
}

// crash SIGKILLs a cluster process after wait and restarts it at once.
func (f *faultRun) crash(ctx context.Context, target string, wait time.Duration) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(wait):
	}
	flt := fault{target: target, at: time.Now()}
	flt.down, flt.restartErr = f.s.Local.Cluster.Crash(context.Background(), target)
	f.record(flt)
}

// startClusterStack starts the cluster (PostgreSQL, four Temporal services,
// mTLS) with the roles and a recording Slack, stopped when t ends; what
// names the suite in the error when PostgreSQL is missing.
func startClusterStack(t *testing.T, what string) *stackT {
	t.Helper()
	if _, err := devstack.PostgresBin(); err != nil {
		t.Fatalf("%s needs PostgreSQL: %v", what, err)
	}
	api := slackrec.New(t)
	s, err := startStack(api.URL(), true)
	if s != nil {
		s.slack = api
		t.Cleanup(func() { s.stop(t) })
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}
