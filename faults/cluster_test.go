package faults

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foureyes/foureyes/devstack"
	"github.com/foureyes/foureyes/internal/slackrec"
	"github.com/foureyes/foureyes/policy"
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
	if _, err := devstack.PostgresBin(); err != nil {
		t.Fatalf("the cluster fault suite needs PostgreSQL: %v", err)
	}
	api := slackrec.New(t)
	s, err := startClusterStack(api.URL())
	if s != nil {
		s.slack = api
		t.Cleanup(func() { s.stopCluster(t) })
	}
	if err != nil {
		t.Fatal(err)
	}
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
	flt.down, flt.restartErr = f.s.local.Cluster.Crash(context.Background(), target)
	f.record(flt)
}

// startClusterStack is startStack on a cluster: PostgreSQL's data in a
// folder of its own under /tmp (its user must reach it), every client by
// its certificate, the suites' rogue clients as admin.
func startClusterStack(slackAPI string) (*stackT, error) {
	root, err := devstack.RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "foureyes-cluster-faults-")
	if err != nil {
		return nil, err
	}
	s := &stackT{dir: dir, counter: filepath.Join(dir, "deploys.log"), envDir: filepath.Join(dir, "deploy-env")}
	if err := s.prepare(root, slackAPI); err != nil {
		return nil, err
	}
	if err := s.bootCluster(root); err != nil {
		return s, fmt.Errorf("%w (logs in %s)", err, s.local.LogDir())
	}
	return s, nil
}

func (s *stackT) bootCluster(root string) error {
	var err error
	if s.server, err = devstack.EnsureTemporalServer(root, io.Discard); err != nil {
		return fmt.Errorf("foureyes' Temporal server is needed (go run ./stack test builds it): %w", err)
	}
	if err := devstack.BuildBinaries(root, s.local.BinDir, io.Discard); err != nil {
		return err
	}
	if s.local.GatewayPort, err = devstack.FreePort(); err != nil {
		return err
	}
	if err := s.local.MakeDirs(); err != nil {
		return err
	}
	p, _, err := policy.Load(s.local.PolicyFile())
	if err != nil {
		return err
	}
	if s.ring, err = p.KeyRing(); err != nil {
		return err
	}
	pgDir, err := os.MkdirTemp("", "foureyes-pg-")
	if err != nil {
		return err
	}
	s.pgDir = pgDir
	if err := os.Chmod(pgDir, 0o711); err != nil { // user postgres passes through to data/
		return err
	}
	s.local.Cluster = &devstack.Cluster{Bin: s.server, Dir: filepath.Join(s.dir, "cluster"), PGDir: filepath.Join(pgDir, "data"),
		LogDir: s.local.LogDir()}
	ctx := context.Background()
	if err := s.local.Cluster.Start(ctx, func(_ string, f func() (string, error)) error { _, err := f(); return err }); err != nil {
		return err
	}
	return s.startRolesAndClient(ctx)
}

func (s *stackT) stopCluster(t *testing.T) {
	logFile := ""
	if p := s.local.Cluster.Process("frontend"); p != nil {
		logFile = p.LogFile
	}
	s.local.Stop()
	if s.client != nil {
		s.client.Close()
	}
	if logFile != "" {
		reportServerTally(t, logFile)
	}
	os.RemoveAll(s.dir)
	if s.pgDir != "" {
		os.RemoveAll(s.pgDir)
	}
}
