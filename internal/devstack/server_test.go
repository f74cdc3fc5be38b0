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

// serverBin finds or builds foureyes' Temporal server.
func serverBin(t *testing.T) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := EnsureTemporalServer(root, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// scratchCreds makes a server's credentials in a new folder.
func scratchCreds(t *testing.T) Credentials {
	t.Helper()
	c := Credentials{Dir: t.TempDir()}
	if err := c.Ensure(); err != nil {
		t.Fatal(err)
	}
	return c
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func TestServerKeepsWorkflowsAcrossRestart(t *testing.T) {
	creds := scratchCreds(t)
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	opts := ServerOptions{Bin: serverBin(t), Creds: creds, DataDir: creds.Dir, Port: port,
		LogFile: filepath.Join(creds.Dir, "temporal.log")}
	ctx := context.Background()
	srv := startServer(t, opts)
	// Started on a queue no worker polls: it stays running.
	c := dial(t, creds, srv.Addr)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "devstack-restart", TaskQueue: "devstack-unworked"}, "Unworked")
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := creds.CheckHealth(ctx, srv.Addr); err == nil {
		t.Fatal("server still healthy after Stop")
	}
	srv = startServer(t, opts)
	defer srv.Stop()
	c = dial(t, creds, srv.Addr)
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
	creds := scratchCreds(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	start := time.Now()
	_, err = StartServer(context.Background(), ServerOptions{Bin: serverBin(t), Creds: creds, DataDir: dir,
		Port: l.Addr().(*net.TCPAddr).Port, LogFile: filepath.Join(dir, "t.log"), StartTimeout: 30 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "temporal server") {
		t.Fatalf("err = %v, want a server start error", err)
	}
	t.Logf("failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
}

func TestStartServerBadBinary(t *testing.T) {
	dir := t.TempDir()
	_, err := StartServer(context.Background(), ServerOptions{Bin: filepath.Join(dir, "missing"),
		Creds: Credentials{Dir: dir}, DataDir: dir, LogFile: filepath.Join(dir, "t.log")})
	if err == nil {
		t.Fatal("want an error for a missing server binary")
	}
}

func TestServerArgs(t *testing.T) {
	c := Credentials{Dir: "/d"}
	got := strings.Join(serverArgs(ServerOptions{Creds: c, DataDir: "/d", Port: 7, DynamicConfig: []string{`k="v"`}}), " ")
	want := `--config /d/temporal-server.yaml --data /d --ip 127.0.0.1 --port 7 --ui-port 0 --log-level warn` +
		` --tls-cert /d/tls/server.pem --tls-key /d/tls/server.key --dynamic-config k="v"` +
		` --search-attribute ReleaseService=Keyword --search-attribute ReleaseEnvironment=Keyword --search-attribute ReleaseStatus=Keyword` +
		` --search-attribute ReleaseRequester=Keyword --search-attribute ReleaseCommit=Keyword --search-attribute ReleaseAwaiting=KeywordList` +
		` --search-attribute ReleaseEmergency=Bool --search-attribute ReleasePromotes=Keyword`
	if got != want {
		t.Fatalf("args = %s\nwant   %s", got, want)
	}
	ui := strings.Join(serverArgs(ServerOptions{Creds: c, Port: 7, UIPort: 9}), " ")
	if !strings.Contains(ui, "--ui-port 9") || !strings.Contains(ui, "--ui-api-key-file /d/keys/operator.key") {
		t.Fatalf("args = %v: the UI calls as the operator", ui)
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

func dial(t *testing.T, creds Credentials, addr string) client.Client {
	t.Helper()
	c, err := creds.Dial(context.Background(), addr, IdentityAdmin)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
