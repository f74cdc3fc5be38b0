package procstat

import (
	"net"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
)

// A child of this test is found by parent and by process group; this
// process has used CPU and memory.
func TestOwnChild(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep binary:", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid := cmd.Process.Pid
	if got := Children(os.Getpid()); !slices.Contains(got, pid) {
		t.Errorf("Children(self) = %v, want %d among them", got, pid)
	}
	if got := GroupMembers([]int{pid}); !slices.Equal(got, []int{pid}) {
		t.Errorf("GroupMembers(%d) = %v", pid, got)
	}
	if RSSMB(os.Getpid(), "VmHWM") <= 0 {
		t.Error("no peak RSS for this process")
	}
	if _, err := Stat(pid); err != nil {
		t.Error(err)
	}
	if CPUSeconds(-1) != 0 || RSSMB(-1, "VmRSS") != 0 {
		t.Error("a process that does not exist has figures")
	}
}

// TestListeningPorts: a port this process listens on is listed, one it
// closed is not.
func TestListeningPorts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	ports, err := ListeningPorts(os.Getpid())
	if err != nil || !slices.Contains(ports, port) {
		t.Fatalf("ListeningPorts = %v, %v; want %d among them", ports, err, port)
	}
	l.Close()
	if ports, _ := ListeningPorts(os.Getpid()); slices.Contains(ports, port) {
		t.Errorf("closed port %d still listed: %v", port, ports)
	}
}
