package devstack

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bin.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func waitDone(t *testing.T, p *Process) {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		p.Kill()
		t.Fatal("process did not exit")
	}
}

func TestStartRoleEnvironmentIsolation(t *testing.T) {
	t.Setenv("FOUREYES_DEPLOY_CREDENTIALS", "parent-secret")
	t.Setenv("FOUREYES_PARENT_ONLY", "x")
	bin := script(t, `echo "args: $*"; env`)
	logDir := t.TempDir()
	role := Role{Name: "build", Env: []string{"FOUREYES_BUILD_ARTIFACT_DIR=/tmp/a", "TEMPORAL_ADDRESS=127.0.0.1:1"}}
	p, err := StartRole(context.Background(), bin, role, logDir)
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, p)
	if p.Err() != nil {
		t.Fatalf("exit: %v", p.Err())
	}
	out, err := os.ReadFile(filepath.Join(logDir, "build.log"))
	if err != nil {
		t.Fatal(err)
	}
	log := string(out)
	for _, want := range []string{"args: -role build", "FOUREYES_BUILD_ARTIFACT_DIR=/tmp/a", "TEMPORAL_ADDRESS=127.0.0.1:1", "PATH=", "HOME="} {
		if !strings.Contains(log, want) {
			t.Errorf("role output lacks %q:\n%s", want, log)
		}
	}
	for _, leak := range []string{"FOUREYES_DEPLOY_CREDENTIALS", "parent-secret", "FOUREYES_PARENT_ONLY"} {
		if strings.Contains(log, leak) {
			t.Errorf("parent variable %q reached the role:\n%s", leak, log)
		}
	}
}

func TestStopEscalatesToKillForWholeGroup(t *testing.T) {
	old := StopGrace
	StopGrace = 300 * time.Millisecond
	defer func() { StopGrace = old }()
	// Ignores SIGTERM; its child sleep writes its pid for us to check.
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	bin := script(t, `trap "" TERM; sleep 300 & echo $! > `+pidFile+`; echo ready; wait`)
	p, err := StartRole(context.Background(), bin, Role{Name: "stubborn"}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	child := readPid(t, pidFile)
	start := time.Now()
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() || time.Since(start) < StopGrace {
		t.Fatalf("Stop returned after %s, exited=%v", time.Since(start), p.Exited())
	}
	if alive(child) {
		t.Fatalf("child %d of the process group survived Stop", child)
	}
}

func TestStopGraceful(t *testing.T) {
	p, err := StartRole(context.Background(), script(t, "exec sleep 300"), Role{Name: "sleeper"}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.Stop(); err != nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Stop = %v after %s", err, time.Since(start))
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("second Stop = %v", err)
	}
}

func TestKill(t *testing.T) {
	p, err := StartRole(context.Background(), script(t, `trap "" TERM; exec sleep 300`), Role{Name: "victim"}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil || !p.Exited() {
		t.Fatalf("Kill = %v, exited=%v", err, p.Exited())
	}
	if p.Err() == nil || !strings.Contains(p.Err().Error(), "killed") {
		t.Fatalf("Err = %v, want killed", p.Err())
	}
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err == nil {
				return pid
			}
		}
	}
	t.Fatalf("no pid in %s", path)
	return 0
}

// alive reports whether pid runs (zombies awaiting a reaper count as dead).
func alive(pid int) bool {
	for i := 0; i < 50; i++ {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || syscall.Kill(pid, 0) != nil {
			return false
		}
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func TestLogTailOnlyThisRun(t *testing.T) {
	logDir := t.TempDir()
	for _, word := range []string{"first-run", "second-run"} {
		p, err := StartRole(context.Background(), script(t, "echo "+word), Role{Name: "r"}, logDir)
		if err != nil {
			t.Fatal(err)
		}
		waitDone(t, p)
		tail := p.LogTail(4096)
		if !strings.Contains(tail, word) || (word == "second-run" && strings.Contains(tail, "first-run")) {
			t.Fatalf("LogTail after %s = %q", word, tail)
		}
	}
}
