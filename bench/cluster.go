package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/foureyes/foureyes/devstack"
	"github.com/foureyes/foureyes/internal/procstat"
)

// startCluster runs the rig's server as `stack cluster` does: PostgreSQL,
// the schema job, four Temporal services with internode mTLS (no UI); the
// roles and the floor call the frontend with their certificates.
func (r *rig) startCluster(ctx context.Context) error {
	pg, err := os.MkdirTemp("", "foureyes-bench-pg-")
	if err != nil {
		return err
	}
	r.pgDir = pg
	if err := os.Chmod(pg, 0o711); err != nil { // PostgreSQL's user passes through to data/
		return err
	}
	c := &devstack.Cluster{Bin: r.cfg.server, Dir: filepath.Join(r.dir, "cluster"), PGDir: filepath.Join(pg, "data"),
		LogDir: r.local.LogDir()}
	r.local.Cluster = c
	return c.Start(ctx, func(_ string, f func() (string, error)) error { _, err := f(); return err })
}

// serverGroups are the process groups of the Temporal server: the dev
// server's, or each cluster process's and PostgreSQL's (its backends are
// processes of its group).
func (r *rig) serverGroups() []int {
	if c := r.local.Cluster; c != nil {
		var pids []int
		for _, s := range append([]string{"postgres"}, devstack.ClusterServices...) {
			if p := c.Process(s); p != nil {
				pids = append(pids, p.Pid())
			}
		}
		return pids
	}
	return []int{r.local.Server.Pid()}
}

// serverCPU is the CPU seconds of every process of the server's groups.
func (r *rig) serverCPU() float64 {
	sum := 0.0
	for _, pid := range procstat.GroupMembers(r.serverGroups()) {
		sum += procstat.CPUSeconds(pid)
	}
	return sum
}

// serverPeakMB adds up the peak RSS (VmHWM) of the server's processes.
func (r *rig) serverPeakMB() float64 {
	sum := 0.0
	for _, pid := range procstat.GroupMembers(r.serverGroups()) {
		sum += procstat.RSSMB(pid, "VmHWM")
	}
	return sum
}

// serverName names the server in the report.
func (c config) serverName() string {
	if c.cluster {
		return "cluster: PostgreSQL, frontend, history, matching, worker as processes of their own, internode mTLS, clients by certificate"
	}
	return "dev server: all services in one process on SQLite"
}
