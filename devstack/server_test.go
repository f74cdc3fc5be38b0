package devstack

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
)

// temporalCLI finds or installs the pinned CLI, skipping when it cannot.
func temporalCLI(t *testing.T) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cli, err := EnsureTemporalCLI(root, testWriter{t})
	if err != nil {
		t.Skipf("Temporal CLI %s not found and not installable: %v", TemporalCLIVersion, err)
	}
	return cli
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func TestServerKeepsWorkflowsAcrossRestart(t *testing.T) {
	cli := temporalCLI(t)
	dir := t.TempDir()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	opts := ServerOptions{CLIPath: cli, DBFile: filepath.Join(dir, "temporal.db"), Port: port,
		LogFile: filepath.Join(dir, "temporal.log")}
	ctx := context.Background()
	srv := startServer(t, opts)
	// Started on a queue no worker polls: it stays running.
	c := dial(t, srv.Addr)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "devstack-restart", TaskQueue: "devstack-unworked"}, "Unworked")
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := CheckHealth(ctx, srv.Addr); err == nil {
		t.Fatal("server still healthy after Stop")
	}
	srv = startServer(t, opts)
	defer srv.Stop()
	c = dial(t, srv.Addr)
	defer c.Close()
	desc, err := c.DescribeWorkflowExecution(ctx, "devstack-restart", run.GetRunID())
	if err != nil {
		t.Fatalf("workflow lost across restart: %v", err)
	}
	if s := desc.GetWorkflowExecutionInfo().GetStatus(); s.String() != "Running" {
		t.Fatalf("status after restart = %v", s)
	}
}

func TestStartServerPortInUse(t *testing.T) {
	cli := temporalCLI(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	start := time.Now()
	_, err = StartServer(context.Background(), ServerOptions{CLIPath: cli,
		Port: l.Addr().(*net.TCPAddr).Port, LogFile: filepath.Join(dir, "t.log"), StartTimeout: 30 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "temporal server") {
		t.Fatalf("err = %v, want a server start error", err)
	}
	t.Logf("failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
}

func TestStartServerBadCLI(t *testing.T) {
	dir := t.TempDir()
	_, err := StartServer(context.Background(), ServerOptions{CLIPath: filepath.Join(dir, "missing"), LogFile: filepath.Join(dir, "t.log")})
	if err == nil {
		t.Fatal("want an error for a missing CLI")
	}
}

func TestServerArgs(t *testing.T) {
	got := strings.Join(serverArgs(ServerOptions{Port: 7, UIPort: 0, DBFile: "d.db", DynamicConfig: []string{`k="v"`}}), " ")
	want := `server start-dev --ip 127.0.0.1 --port 7 --log-level warn --headless --db-filename d.db --dynamic-config-value k="v"` +
		` --search-attribute ReleaseService=Keyword --search-attribute ReleaseEnvironment=Keyword --search-attribute ReleaseStatus=Keyword` +
		` --search-attribute ReleaseRequester=Keyword --search-attribute ReleaseCommit=Keyword --search-attribute ReleaseAwaiting=KeywordList`
	if got != want {
		t.Fatalf("args = %s\nwant   %s", got, want)
	}
	if got := serverArgs(ServerOptions{Port: 7, UIPort: 9}); !strings.Contains(strings.Join(got, " "), "--ui-port 9") {
		t.Fatalf("args = %v", got)
	}
}

func startServer(t *testing.T, o ServerOptions) *Process {
	t.Helper()
	start := time.Now()
	p, err := StartServer(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("server on %s healthy after %s (pid %s)", p.Addr, time.Since(start).Round(time.Millisecond), strconv.Itoa(p.Pid()))
	return p
}

func dial(t *testing.T, addr string) client.Client {
	t.Helper()
	c, err := Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
