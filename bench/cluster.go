package main

import (
	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/procstat"
)

// serverGroups are the process groups of the Temporal server: the dev
// server's, or each cluster process's and PostgreSQL's (its backends are
// processes of its group).
func (r *rig) serverGroups() []int {
	if c := r.Local.Cluster; c != nil {
		var pids []int
		for _, s := range append([]string{"postgres"}, devstack.ClusterServices...) {
			if p := c.Process(s); p != nil {
				pids = append(pids, p.Pid())
			}
		}
		return pids
	}
	return []int{r.Local.Server.Pid()}
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
