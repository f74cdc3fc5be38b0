package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
)

// ServerOptions configures the Temporal dev server.
type ServerOptions struct {
	CLIPath       string        // temporal binary (see EnsureTemporalCLI)
	DBFile        string        // SQLite file; "" keeps state in memory
	Port          int           // frontend gRPC port; 0 picks a free one
	UIPort        int           // Web UI port; 0 = no UI (--headless)
	LogFile       string        // server stdout/stderr; required
	DynamicConfig []string      // KEY=VALUE (value is JSON), --dynamic-config-value
	SQLitePragmas []string      // PRAGMA=VALUE, --sqlite-pragma
	StartTimeout  time.Duration // wait for the frontend; default 60s
}

// Tuning is the dev server's SQLite pragmas and dynamic config beyond the
// CLI's defaults.
type Tuning struct {
	SQLitePragmas []string
	DynamicConfig []string
}

// DefaultTuning is what the local stack runs with: settings that lowered the
// bare-Temporal floor measured by `go run ./bench` (docs/benchmarks.md).
// Write-ahead logging without an fsync per commit (the dev server is not a
// production store), and one partition per task queue: with the default four
// a task may wait for a poller on another partition.
var DefaultTuning = Tuning{
	SQLitePragmas: []string{"journal_mode=WAL", "synchronous=NORMAL"},
	DynamicConfig: []string{"matching.numTaskqueueReadPartitions=1", "matching.numTaskqueueWritePartitions=1"},
}

// StartServer runs `temporal server start-dev` on 127.0.0.1 and waits until
// the frontend answers a health check.
func StartServer(ctx context.Context, o ServerOptions) (*Process, error) {
	if o.CLIPath == "" || o.LogFile == "" {
		return nil, fmt.Errorf("devstack: ServerOptions needs CLIPath and LogFile")
	}
	if o.Port == 0 {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		o.Port = port
	}
	cmd := exec.Command(o.CLIPath, serverArgs(o)...)
	cmd.Env = BaseEnv()
	p, err := startProcess("temporal", cmd, o.LogFile)
	if err != nil {
		return nil, err
	}
	p.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(o.Port))
	if o.StartTimeout == 0 {
		o.StartTimeout = 60 * time.Second
	}
	if err := waitHealthy(ctx, p, o.StartTimeout); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

func serverArgs(o ServerOptions) []string {
	args := []string{"server", "start-dev", "--ip", "127.0.0.1",
		"--port", strconv.Itoa(o.Port), "--log-level", "warn"}
	if o.UIPort == 0 {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", strconv.Itoa(o.UIPort))
	}
	if o.DBFile != "" {
		args = append(args, "--db-filename", o.DBFile)
	}
	for _, kv := range o.DynamicConfig {
		args = append(args, "--dynamic-config-value", kv)
	}
	for _, kv := range o.SQLitePragmas {
		args = append(args, "--sqlite-pragma", kv)
	}
	args = append(args, searchAttributeArgs()...)
	return args
}

// waitHealthy dials the frontend until CheckHealth succeeds, the process
// exits, ctx ends or timeout passes.
func waitHealthy(ctx context.Context, p *Process, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if last = checkWhileRunning(ctx, p); last == nil {
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
func checkWhileRunning(ctx context.Context, p *Process) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	return CheckHealth(ctx, p.Addr)
}

// CheckHealth dials addr and asks the frontend for its health.
func CheckHealth(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// Dial connects a Temporal client to addr (namespace default) with SDK
// logging discarded.
func Dial(ctx context.Context, addr string) (client.Client, error) {
	quiet := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	return client.DialContext(ctx, client.Options{HostPort: addr, Logger: quiet})
}
