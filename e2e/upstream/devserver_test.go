package upstream

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

// devServer is `temporal server start-dev` on a SQLite file: killing it and
// starting it again on the same file is a history restart (mutable state is
// reloaded from the file, the in-memory update registry starts empty).
type devServer struct {
	cli, db string
	port    int
	cmd     *exec.Cmd
	log     *os.File
}

// temporalCLI is $TEMPORAL_CLI, else the repository's .tools/bin/temporal.
func temporalCLI(t *testing.T) string {
	p := os.Getenv("TEMPORAL_CLI")
	if p == "" {
		p, _ = filepath.Abs(filepath.Join("..", "..", ".tools", "bin", "temporal"))
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("setup: Temporal CLI %s: %v (set TEMPORAL_CLI)", p, err)
	}
	return p
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("setup: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *devServer) address() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// start runs the server and waits until it answers.
func (s *devServer) start(t *testing.T) {
	args := []string{"server", "start-dev", "--headless", "--ip", "127.0.0.1",
		"--db-filename", s.db, "--port", strconv.Itoa(s.port), "--log-level", "warn"}
	s.cmd = exec.Command(s.cli, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("setup: start %s: %v", s.cli, err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := s.dial(nil); err == nil {
			c.Close()
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("setup: dev server on %s did not answer in 90 s (log %s)", s.address(), s.log.Name())
}

// kill SIGKILLs the server's process group (its own, Setpgid) and waits.
func (s *devServer) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// dial connects a client; opts may add gRPC dial options (the worker's hold).
func (s *devServer) dial(opts *client.ConnectionOptions) (client.Client, error) {
	return s.dialLogging(opts, quietLogger{})
}

func (s *devServer) dialLogging(opts *client.ConnectionOptions, logger log.Logger) (client.Client, error) {
	o := client.Options{HostPort: s.address(), Namespace: "default", Logger: logger}
	if opts != nil {
		o.ConnectionOptions = *opts
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return client.DialContext(ctx, o)
}

// quietLogger drops the SDK's logs (the worker logs every failed poll while
// the server is down); the test prints what it observes itself.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

// keptLogger keeps the SDK's last warnings and errors, printed only when
// the sequence was not reached.
type keptLogger struct {
	mu    sync.Mutex
	lines []string
}

func (k *keptLogger) Debug(string, ...any)        {}
func (k *keptLogger) Info(string, ...any)         {}
func (k *keptLogger) Warn(msg string, kv ...any)  { k.add("WARN", msg, kv) }
func (k *keptLogger) Error(msg string, kv ...any) { k.add("ERROR", msg, kv) }

func (k *keptLogger) add(level, msg string, kv []any) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.lines = append(k.lines, fmt.Sprintf("%s %s %v", level, msg, kv))
	if len(k.lines) > 40 {
		k.lines = k.lines[len(k.lines)-40:]
	}
}

func (k *keptLogger) String() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return strings.Join(k.lines, "\n  ")
}

// logTail is the end of the server's log.
func (s *devServer) logTail() string {
	b, _ := os.ReadFile(s.log.Name())
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

func newDevServer(t *testing.T) *devServer {
	dir := t.TempDir()
	log, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	s := &devServer{cli: temporalCLI(t), db: filepath.Join(dir, "temporal.db"), port: freePort(t), log: log}
	t.Cleanup(func() { s.kill(); log.Close() })
	return s
}

func (s *devServer) String() string { return fmt.Sprintf("dev server %s (db %s)", s.address(), s.db) }
