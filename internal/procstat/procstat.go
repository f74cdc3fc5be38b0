// Package procstat reads Linux's /proc: a process's CPU time, memory,
// children and process group. The stack's tools measure and kill
// processes with it.
package procstat

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Fields of /proc/PID/stat after the command name, counted from 0 (the
// state): see proc(5), whose numbers are these plus 3.
const (
	fieldParent = 1
	fieldGroup  = 2
	fieldUTime  = 11
	fieldSTime  = 12
)

// Stat is /proc/PID/stat after the command name (which is in parentheses
// and may hold spaces), split into fields.
func Stat(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(data)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:]), nil
}

// CPUSeconds is the user+system CPU time a process has used; 0 when it is gone.
func CPUSeconds(pid int) float64 {
	f, err := Stat(pid)
	if err != nil || len(f) <= fieldSTime {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[fieldUTime], 64)
	st, _ := strconv.ParseFloat(f[fieldSTime], 64)
	return (ut + st) / 100 // USER_HZ
}

// RSSMB is a process's resident memory now (field VmRSS) or at its peak
// (VmHWM), in MB; 0 when it is gone.
func RSSMB(pid int, field string) float64 {
	kb, err := FieldKB(fmt.Sprintf("/proc/%d/status", pid), field)
	if err != nil {
		return 0
	}
	return float64(kb) / 1024
}

// FieldKB reads a "Name:   N kB" field of a /proc file (a process's
// status, meminfo), in kB.
func FieldKB(path, name string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != name {
			continue
		}
		if fs := strings.Fields(v); len(fs) > 0 {
			return strconv.ParseInt(fs[0], 10, 64)
		}
		break
	}
	return 0, fmt.Errorf("%s: no %s", path, name)
}

// Children lists the processes whose parent is pid.
func Children(pid int) []int {
	return find(fieldParent, map[int]bool{pid: true})
}

// GroupMembers lists the processes whose process group is one of groups.
func GroupMembers(groups []int) []int {
	want := map[int]bool{}
	for _, g := range groups {
		want[g] = true
	}
	return find(fieldGroup, want)
}

// find lists the processes whose stat field is one of want.
func find(field int, want map[int]bool) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := Stat(pid)
		if err != nil || len(f) <= field {
			continue
		}
		if v, _ := strconv.Atoi(f[field]); want[v] {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ListeningPorts are the TCP ports process pid listens on: its sockets
// (/proc/PID/fd) in LISTEN state (0A) in /proc/PID/net/tcp and tcp6.
func ListeningPorts(pid int) ([]int, error) {
	mine := map[string]bool{}
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, fd := range fds {
		if l, err := os.Readlink(dir + "/" + fd.Name()); err == nil && strings.HasPrefix(l, "socket:[") {
			mine[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var ports []int
	for _, table := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" || !mine[f[9]] {
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil && !slices.Contains(ports, int(p)) {
				ports = append(ports, int(p))
			}
		}
	}
	slices.Sort(ports)
	return ports, nil
}
