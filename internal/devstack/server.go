package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/config"
)

// ServerOptions configures foureyes' Temporal server (temporal-server/).
type ServerOptions struct {
	Bin           string        // temporal-server binary (see EnsureTemporalServer)
	Creds         Credentials   // authorization config, API keys, TLS (Ensure'd)
	DataDir       string        // its SQLite file temporal-server.db; required
	Port          int           // frontend gRPC port; 0 picks a free one
	UIPort        int           // Web UI port; 0 = no UI
	UICodec       string        // codec server the Web UI decodes with ("": none)
	LogFile       string        // server stdout/stderr; required
	DynamicConfig []string      // KEY=VALUE (value is JSON)
	SQLitePragmas []string      // PRAGMA=VALUE
	PprofListen   string        // serve pprof here ("": none)
	MetricsPort   int           // serve Prometheus /metrics on 127.0.0.1 here (0: none)
	StartTimeout  time.Duration // wait for the frontend; default 60s
}

// Tuning is the server's SQLite pragmas and dynamic config beyond the
// CLI's defaults.
type Tuning struct {
	SQLitePragmas []string
	DynamicConfig []string
	PprofListen   string // the bench profiles the server here; "": no pprof
	MetricsPort   int    // the bench reads the server's own metrics here; 0: none
}

// DefaultTuning is what the local stack runs with: settings that lowered the
// bare-Temporal floor measured by `go run ./bench` (docs/benchmarks.md).
// Write-ahead logging without an fsync per commit (the local server is not a
// production store), one partition per task queue (with the default four a
// task may wait for a poller on another partition), and the history
// service's transfer-queue reader not rate-limited to its default 20 reads
// per second per shard: under back-to-back load every hop from a workflow
// task to its activity waited for the next 50 ms token (docs/benchmarks.md,
// "Where a decision's time goes"). And history queue slices keep their
// predicate: with one namespace Temporal narrows a read slice's predicate to
// it, after which every new range of tasks is merged by walking all the
// slice's pending tasks (executableTracker.split, up to 11 % of the server's
// CPU in the bench's restart phase; 0 with this; docs/benchmarks.md, "Issue
// 26: the activity hand-off and a restarted server").
var DefaultTuning = Tuning{
	SQLitePragmas: []string{"journal_mode=WAL", "synchronous=NORMAL"},
	DynamicConfig: []string{"matching.numTaskqueueReadPartitions=1", "matching.numTaskqueueWritePartitions=1",
		"history.transferProcessorMaxPollRPS=1000", "history.queueShrinkPredicateMaxPendingKeys=0"},
}

// StartServer runs foureyes' Temporal server on 127.0.0.1 (TLS, every call
// authorized by the caller's API key) and waits until the frontend answers a
// health check.
func StartServer(ctx context.Context, o ServerOptions) (*Process, error) {
	if o.Bin == "" || o.LogFile == "" || o.DataDir == "" || o.Creds.Dir == "" {
		return nil, fmt.Errorf("devstack: ServerOptions needs Bin, Creds, DataDir and LogFile")
	}
	if o.Port == 0 {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		o.Port = port
	}
	cmd := exec.Command(o.Bin, serverArgs(o)...)
	cmd.Env = BaseEnv()
	p, err := startProcess("temporal", cmd, o.LogFile)
	if err != nil {
		return nil, err
	}
	p.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(o.Port))
	if o.StartTimeout == 0 {
		o.StartTimeout = 60 * time.Second
	}
	if err := waitHealthy(ctx, o.Creds, p, o.StartTimeout); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

func serverArgs(o ServerOptions) []string {
	c := o.Creds
	args := []string{"--config", c.ConfigFile(), "--data", o.DataDir, "--ip", "127.0.0.1",
		"--port", strconv.Itoa(o.Port), "--ui-port", strconv.Itoa(o.UIPort), "--log-level", "warn",
		"--tls-cert", c.ServerCertFile(), "--tls-key", c.ServerKeyFile()}
	if o.UIPort != 0 {
		// The UI server calls the frontend as the read-only operator.
		args = append(args, "--tls-ca", c.CAFile(), "--ui-api-key-file", c.KeyFile(IdentityOperator))
		if o.UICodec != "" {
			args = append(args, "--ui-codec-endpoint", o.UICodec)
		}
	}
	for _, kv := range o.DynamicConfig {
		args = append(args, "--dynamic-config", kv)
	}
	for _, kv := range o.SQLitePragmas {
		args = append(args, "--sqlite-pragma", kv)
	}
	for _, nameType := range api.SearchAttributes {
		args = append(args, "--search-attribute", nameType)
	}
	if o.PprofListen != "" {
		args = append(args, "--pprof-listen", o.PprofListen)
	}
	if o.MetricsPort != 0 {
		args = append(args, "--metrics-port", strconv.Itoa(o.MetricsPort))
	}
	return args
}

// waitHealthy dials the frontend until CheckHealth succeeds, the process
// exits, ctx ends or timeout passes.
func waitHealthy(ctx context.Context, c Credentials, p *Process, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if last = checkWhileRunning(ctx, c, p); last == nil {
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("temporal server exited before answering (%s; log %s):\n%s", p.exitDescription(), p.LogFile, p.LogTail(2000))
		case <-ctx.Done():
			return fmt.Errorf("temporal server at %s not healthy after %s (log %s): %v", p.Addr, timeout, p.LogFile, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// checkWhileRunning is CheckHealth, abandoned as soon as the process exits.
func checkWhileRunning(ctx context.Context, c Credentials, p *Process) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	return c.CheckHealth(ctx, p.Addr)
}

// CheckHealth dials addr without a credential (the server answers health
// checks of anyone) and asks the frontend for its health.
func (c Credentials) CheckHealth(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	cl, err := dialTemporal(ctx, c.Anonymous(addr), "foureyes-stack-health")
	if err != nil {
		return err
	}
	defer cl.Close()
	_, err = cl.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// Dial connects a Temporal client to addr as identity (namespace default),
// with SDK logging discarded.
func (c Credentials) Dial(ctx context.Context, addr, identity string) (client.Client, error) {
	return dialTemporal(ctx, c.Temporal(addr, identity), "foureyes-stack-"+identity)
}

func dialTemporal(ctx context.Context, t config.Temporal, clientIdentity string) (client.Client, error) {
	opts, err := t.ClientOptions(clientIdentity, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	return client.DialContext(ctx, opts)
}

// StartScratchServer starts a server of its own in dir (credentials, SQLite
// file, log) on a free port without the Web UI: for tests that need a real
// server but not the stack.
func StartScratchServer(ctx context.Context, root, dir string, out io.Writer) (*Process, Credentials, error) {
	bin, err := EnsureTemporalServer(root, out)
	if err != nil {
		return nil, Credentials{}, err
	}
	creds := Credentials{Dir: dir}
	if err := creds.Ensure(); err != nil {
		return nil, Credentials{}, err
	}
	p, err := StartServer(ctx, ServerOptions{Bin: bin, Creds: creds, DataDir: dir,
		LogFile: filepath.Join(dir, "temporal.log"), SQLitePragmas: DefaultTuning.SQLitePragmas,
		DynamicConfig: DefaultTuning.DynamicConfig})
	return p, creds, err
}
