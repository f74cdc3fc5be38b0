package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/tracing"
)

// workerOptions: the role's worker; a fatal error is sent to fatal.
func (p *process) workerOptions(fatal chan<- error) worker.Options {
	return worker.Options{Identity: p.role.identity,
		WorkerStopTimeout: stopTimeout, OnFatalError: func(err error) { fatal <- err },
		DisableWorkflowWorker:            !p.role.workflows,
		Interceptors:                     []interceptor.WorkerInterceptor{&stageLogging{}},
		MaxConcurrentWorkflowTaskPollers: workflowPollers, MaxConcurrentActivityTaskPollers: activityPollers,
		MaxHeartbeatThrottleInterval: heartbeatThrottle}
}

// Exit codes.
const (
	exitConfig  = 2 // bad flags, environment or policy: fix and restart
	exitRuntime = 1 // Temporal unreachable, port taken, worker failed
)

// Pollers per task queue kind (the SDK's default is 2): a release hands its
// roles several tasks at once (notices and the next stage at each gate), and
// a task that finds no poller waiting waits in matching or is written to the
// server's backlog and read back. Activity pollers 8 (was 4): the approval
// queue's tasks waited longer for a poller than the floor's; 8 of each
// took the hand-off after a decision from 14.8 to 12.5 ms p50, but with 8
// workflow-task pollers throughput at 200 releases at once fell from 4.2–4.7
// to 3.7–3.9/s, so those stay 4 (docs/benchmarks.md, "Hop 5 inside the
// server").
const (
	workflowPollers = 4
	activityPollers = 8
)

// stopTimeout is how long running activities get to finish on shutdown.
const stopTimeout = 10 * time.Second

// heartbeatThrottle: the most a role waits between sending a running
// stage's heartbeats to the server. The SDK's default sends them only every
// 0.8 × the heartbeat timeout (16 of 20 s), so a history or PostgreSQL
// restart of more than 4 s at the wrong moment timed out the attempt of a
// worker that was alive (the soak's one rolled-back release in 378, issue
// 27); at 5 s it takes a 15 s outage.
const heartbeatThrottle = 5 * time.Second

// process is one configured role, ready to connect.
type process struct {
	name string
	role *role
	opts client.Options
	log  *slog.Logger
	// metrics and where they are served (empty: not served).
	metrics       *metrics
	metricsListen string
	metricsAddr   string // where it listens, once it does
	// payloadKey is the id of the key that encrypts payloads ("": none).
	payloadKey string
	// traces says where spans go ("": nowhere); stopTracing flushes them.
	traces      string
	stopTracing func(context.Context) error
}

// run returns the exit code; start-up errors are one line on stderr.
func run(ctx context.Context, args []string, l envconfig.Lookuper, stdout, stderr io.Writer) int {
	p, err := setup(ctx, args, l, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "worker: %v\n", err)
		return exitConfig
	}
	err = p.run(ctx)
	p.flushTraces()
	if err != nil {
		fmt.Fprintf(stderr, "worker: role %s: %v\n", p.name, err)
		return exitRuntime
	}
	return 0
}

// flushTraces exports the spans not sent yet (the last ones of a release
// end just before a stop).
func (p *process) flushTraces() {
	if p.stopTracing == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.stopTracing(ctx); err != nil {
		p.log.Warn("traces not flushed", "error", err)
	}
}

// setup reads everything from flags and the environment before any
// connection, so that configuration mistakes exit 2.
func setup(ctx context.Context, args []string, l envconfig.Lookuper, stdout, stderr io.Writer) (*process, error) {
	name, err := roleFlag(args, l, stderr)
	if err != nil {
		return nil, err
	}
	lc, err := config.LoadLogging(ctx, l)
	if err != nil {
		return nil, err
	}
	logger, err := config.NewLogger(stderr, lc)
	if err != nil {
		return nil, err
	}
	tc, err := config.LoadTemporal(ctx, l)
	if err != nil {
		return nil, err
	}
	r, err := roles[name](ctx, roleEnv{lookup: l, temporal: tc, stdout: stdout})
	if err != nil {
		return nil, fmt.Errorf("role %s: %w", name, err)
	}
	// Not "identity": the gateway logs the decider's identity under that key.
	logger = logger.With("role", name)
	// Before the client options: they take the tracing interceptor.
	ts := tracing.FromEnv(l.Lookup)
	stopTracing, err := tracing.Start(ctx, ts, "foureyes-"+name)
	if err != nil {
		return nil, err
	}
	opts, err := tc.ClientOptions(r.identity, logger)
	if err != nil {
		_ = stopTracing(ctx)
		return nil, fmt.Errorf("role %s: %w", name, err)
	}
	p := &process{name: name, role: r, opts: opts, log: logger, stopTracing: stopTracing, traces: traceSink(ts)}
	if c, _ := tc.Codec(); c != nil { // LoadTemporal has read it once already
		p.payloadKey = c.ActiveKeyID()
	}
	return p, p.setupMetrics(ctx, l)
}

func roleFlag(args []string, l envconfig.Lookuper, stderr io.Writer) (string, error) {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def, _ := l.Lookup("FOUREYES_ROLE")
	role := fs.String("role", def, "role to run: orchestrator, build, review, approval or deploy (env FOUREYES_ROLE)")
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if _, ok := roles[*role]; !ok {
		return "", fmt.Errorf("-role %q: want one of orchestrator, build, review, approval, deploy", *role)
	}
	return *role, nil
}

// run connects, listens (so a taken port fails before any polling), starts
// the worker and waits for a signal or a failure, then stops gracefully.
func (p *process) run(ctx context.Context) error {
	c, err := client.DialContext(ctx, p.opts)
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", p.opts.HostPort, err)
	}
	defer c.Close()
	var ln net.Listener
	if p.role.handler != nil {
		if ln, err = net.Listen("tcp", p.role.listen); err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
		defer ln.Close()
	}
	stopMetrics, err := p.serveMetrics()
	if err != nil {
		return err
	}
	defer stopMetrics()
	fatal := make(chan error, 1)
	w := worker.New(c, p.role.queue, p.workerOptions(fatal))
	p.role.register(w)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker on %s: %w", p.role.queue, err)
	}
	defer w.Stop()
	p.log.Info("worker started", "identity", p.role.identity, "queue", p.role.queue,
		"namespace", p.opts.Namespace, "temporal", p.opts.HostPort, "payload_key", p.payloadKey, "traces", p.traces)
	if p.payloadKey == "" {
		p.log.Warn("payloads are not encrypted: FOUREYES_PAYLOAD_KEY_FILE is not set (docs/security.md, \"Payload encryption\")")
	}
	err = p.wait(ctx, c, ln, fatal)
	p.log.Info("worker stopping")
	return err
}

// wait serves the role's handler (if any) beside the worker until ctx ends
// or either fails.
func (p *process) wait(ctx context.Context, c client.Client, ln net.Listener, fatal <-chan error) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if p.role.background != nil {
		bg := make(chan struct{})
		go func() { defer close(bg); p.role.background(sctx, c, p.log) }()
		defer func() { cancel(); <-bg }()
	}
	served := make(chan error, 1)
	if ln != nil {
		go func() { served <- serveHTTP(sctx, ln, p.role.handler(c, p.log), p.log) }()
	}
	select {
	case <-ctx.Done():
		cancel()
		if ln != nil {
			return <-served // graceful shutdown result
		}
		return nil
	case err := <-fatal:
		return fmt.Errorf("worker failed: %w", err)
	case err := <-served:
		return err
	}
}

// traceSink says where a role's spans go, for its start line.
func traceSink(s tracing.Settings) string {
	if !s.Enabled() {
		return "off"
	}
	var to []string
	if s.Endpoint != "" || s.Exporter == "otlp" {
		to = append(to, "otlp")
	}
	if s.File != "" {
		to = append(to, s.File)
	}
	if s.Exporter == "console" {
		to = append(to, "stdout")
	}
	return strings.Join(to, ",")
}
