package upstream

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

// devServer is `temporal server start-dev` on a SQLite file: killing it and
// starting it again on the same file is a history restart (mutable state is
// reloaded from the file, the in-memory update registry starts empty). With
// FOUREYES_UPSTREAM_SERVER=foureyes it is foureyes' own server instead
// (Temporal server v1.32.0 in one process on SQLite, plus authorization; the
// test is its admin), to see the same on the newer server code.
type devServer struct {
	bin, dir, db string
	foureyes     bool
	apiKey       string
	port         int
	cmd          *exec.Cmd
	log          *os.File
}

// binary is $env if set, else the repository's .tools/bin/name.
func binary(t *testing.T, env, name string) string {
	p := os.Getenv(env)
	if p == "" {
		p, _ = filepath.Abs(filepath.Join("..", "..", ".tools", "bin", name))
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("setup: %s %s: %v (set %s)", name, p, err, env)
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
	s.cmd = exec.Command(s.bin, s.args()...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("setup: start %s: %v", s.bin, err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if s.ready() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("setup: %s did not answer in 90 s (log %s)", s, s.log.Name())
}

func (s *devServer) args() []string {
	port := strconv.Itoa(s.port)
	if s.foureyes {
		return []string{"--config", filepath.Join(s.dir, "authz.yaml"), "--data", s.dir,
			"--ip", "127.0.0.1", "--port", port, "--ui-port", "0", "--log-level", "warn"}
	}
	return []string{"server", "start-dev", "--headless", "--ip", "127.0.0.1",
		"--db-filename", s.db, "--port", port, "--log-level", "info"}
}

// ready: the namespace answers (an unknown workflow is NotFound).
func (s *devServer) ready() bool {
	c, err := s.dial(nil)
	if err != nil {
		return false
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = c.DescribeWorkflowExecution(ctx, "no-such-workflow", "")
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
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
	if s.apiKey != "" {
		o.Credentials = client.NewAPIKeyStaticCredentials(s.apiKey)
		o.ConnectionOptions.TLSDisabled = true
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

// logLines are the server's log lines that name the workflow (at most 30).
func (s *devServer) logLines(wfID string) string {
	b, _ := os.ReadFile(s.log.Name())
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, wfID) && !strings.Contains(l, "authz admin") {
			lines = append(lines, l)
		}
	}
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
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
	s := &devServer{dir: dir, db: filepath.Join(dir, "temporal.db"), port: freePort(t), log: log}
	switch kind := os.Getenv("FOUREYES_UPSTREAM_SERVER"); kind {
	case "", "dev":
		s.bin = binary(t, "TEMPORAL_CLI", "temporal")
	case "foureyes":
		s.bin, s.foureyes = binary(t, "FOUREYES_TEMPORAL_SERVER", "temporal-server"), true
		s.writeAdminConfig(t)
	default:
		t.Fatalf("setup: FOUREYES_UPSTREAM_SERVER=%q: want dev or foureyes", kind)
	}
	t.Cleanup(func() { s.kill(); log.Close() })
	return s
}

// writeAdminConfig writes foureyes' server an authorization config whose
// only identity is an admin (allowed everything) with a fresh API key. The
// five worker roles must be configured; nothing here uses them.
func (s *devServer) writeAdminConfig(t *testing.T) {
	key := make([]byte, 24)
	if _, err := rand.Read(key); err != nil {
		t.Fatalf("setup: %v", err)
	}
	s.apiKey = hex.EncodeToString(key)
	sum := sha256.Sum256([]byte(s.apiKey))
	cfg := "namespace: default\nroles:\n"
	for _, r := range []string{"orchestrator", "build", "review", "approval", "deploy"} {
		cfg += fmt.Sprintf("  %s: {task_queue: unused-%s, activity_types: [Unused%s]", r, r, r)
		if r == "orchestrator" {
			cfg += ", workflow_types: [Unused]"
		}
		cfg += "}\n"
	}
	cfg += fmt.Sprintf("identities:\n  - {name: upstream-repro, role: admin, api_key_sha256: %x}\n", sum)
	if err := os.WriteFile(filepath.Join(s.dir, "authz.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatalf("setup: %v", err)
	}
}

func (s *devServer) String() string {
	return fmt.Sprintf("%s on %s (dir %s)", s.bin, s.address(), s.dir)
}
