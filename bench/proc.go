package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procField reads a "Name:   N kB" field of a /proc file, in kB.
func procField(path, name string) (int64, error) {
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
		fs := strings.Fields(v)
		if len(fs) == 0 {
			break
		}
		return strconv.ParseInt(fs[0], 10, 64)
	}
	return 0, fmt.Errorf("%s: no %s", path, name)
}

// rssMB is a process's resident memory now (VmRSS) or at its peak (VmHWM).
func rssMB(pid int, field string) float64 {
	kb, err := procField(fmt.Sprintf("/proc/%d/status", pid), field)
	if err != nil {
		return 0
	}
	return float64(kb) / 1024
}
