package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/internal/devstack"
)

// Roles in start order (orchestrator first).
var roleNames = config.Roles

type upConfig struct {
	root, dataDir, binDir     string
	port, uiPort, gatewayPort int
	codecPort                 int
	metricsPort               int // first of five; 0 = free ports, <0 = none
	demo, exitAfterDemo       bool
	cluster                   bool // stack cluster: PostgreSQL, four services, mTLS
	pgPort                    int
}

// stack is one running local stack.
type stack struct {
	cfg    upConfig
	out    io.Writer
	bin    string // folder with worker and starter
	logDir string
	local  *devstack.Local
	// metrics is each role's /metrics URL.
	metrics map[string]string
}

func parseUp(args []string) (upConfig, error) {
	root, err := devstack.RepoRoot()
	if err != nil {
		return upConfig{}, err
	}
	c := upConfig{root: root}
	fs := flag.NewFlagSet("stack up", flag.ContinueOnError)
	fs.IntVar(&c.port, "port", 7233, "Temporal frontend port")
	fs.IntVar(&c.uiPort, "ui-port", 8233, "Temporal Web UI port (0 = no UI)")
	fs.IntVar(&c.gatewayPort, "gateway-port", 8480, "approval gateway port")
	fs.IntVar(&c.codecPort, "codec-port", 8234, "codec server port (decrypts payloads for the Web UI and the CLI)")
	fs.IntVar(&c.metricsPort, "metrics-port", 9464, "Prometheus /metrics of the roles on this port and the 4 after it (0 = free ports, -1 = none)")
	fs.StringVar(&c.dataDir, "data", filepath.Join(root, "data"), "data folder")
	fs.StringVar(&c.binDir, "bin", filepath.Join(root, ".tools", "bin"), "where worker and starter are built")
	fs.BoolVar(&c.demo, "demo", true, "run the demo release")
	fs.BoolVar(&c.exitAfterDemo, "exit-after-demo", false, "exit after the demo: 0 if it reached deployed")
	fs.BoolVar(&c.cluster, "cluster", false, "run the cluster (as go run ./stack cluster)")
	fs.IntVar(&c.pgPort, "pg-port", 5432, "PostgreSQL port of the cluster (0 = a free port)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.dataDir, err = filepath.Abs(c.dataDir); err != nil {
		return c, err
	}
	c.binDir, err = filepath.Abs(c.binDir)
	return c, err
}

func runUp(args []string, out io.Writer) int {
	cfg, err := parseUp(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack: %v\n", err)
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	s := newStack(cfg, out)
	defer s.shutdown()
	if err := s.start(ctx); err != nil {
		return s.fail(err)
	}
	deployed := true
	if cfg.demo {
		if deployed, err = s.runDemo(ctx); err != nil {
			return s.fail(fmt.Errorf("demo: %w", err))
		}
	}
	s.printAddresses()
	switch {
	case !cfg.exitAfterDemo:
		return s.serve(ctx)
	case !deployed:
		return s.fail(errors.New("demo release did not reach deployed"))
	default:
		return 0
	}
}

// fail reports err, naming the logs, and returns the exit code.
func (s *stack) fail(err error) int {
	fmt.Fprintf(os.Stderr, "stack: FAILED: %v\n(logs in %s)\n", err, s.logDir)
	return 1
}

func (s *stack) start(ctx context.Context) error {
	if err := s.checkPorts(); err != nil {
		return err
	}
	if _, err := step(s.out, "signing keys and policy", func() (string, error) {
		return s.local.PolicyFile(), s.local.MakeDirs()
	}); err != nil {
		return err
	}
	if err := s.setupMetrics(); err != nil {
		return err
	}
	server, err := step(s.out, "foureyes Temporal server", func() (string, error) { return devstack.EnsureTemporalServer(s.cfg.root, s.out) })
	if err != nil {
		return err
	}
	if _, err := step(s.out, "build worker and starter", func() (string, error) {
		return s.bin, devstack.BuildBinaries(s.cfg.root, s.bin, s.out)
	}); err != nil {
		return err
	}
	if s.cfg.cluster {
		err = s.startCluster(ctx, server)
	} else {
		err = s.startServer(ctx, server)
	}
	if err != nil {
		return err
	}
	// The cluster's readers are certificate subjects: the codec server
	// takes API keys only, so it runs beside the local server alone.
	if !s.cfg.cluster {
		if _, err := step(s.out, "codec server", func() (string, error) {
			_, err := s.local.StartCodecServer(ctx)
			return s.local.CodecURL(), err
		}); err != nil {
			return err
		}
	}
	if err := s.startRoles(ctx); err != nil {
		return err
	}
	_, err = step(s.out, "gateway /healthz", func() (string, error) { return s.local.GatewayURL(), s.local.WaitGateway(ctx, 60*time.Second) })
	return err
}

// checkPorts fails early, with a hint, when a port is taken.
func (s *stack) checkPorts() error {
	ports := map[string]int{"--port": s.cfg.port, "--ui-port": s.cfg.uiPort, "--gateway-port": s.cfg.gatewayPort,
		"--codec-port": s.cfg.codecPort}
	for i := range roleNames {
		if s.cfg.metricsPort > 0 {
			ports[fmt.Sprintf("--metrics-port (+%d)", i)] = s.cfg.metricsPort + i
		}
	}
	if s.cfg.cluster && s.cfg.port != 0 {
		// The cluster's services: Temporal's own layout from --port.
		for _, off := range []int{1, 2, 3, 6} {
			ports[fmt.Sprintf("--port (+%d, cluster)", off)] = s.cfg.port + off
		}
		ports["--pg-port"] = s.cfg.pgPort
	}
	for flag, port := range ports {
		if port == 0 {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return fmt.Errorf("port %d is in use (another stack running? choose another with %s): %v", port, flag, err)
		}
		l.Close()
	}
	return nil
}

// step runs f, printing what it did and how long it took.
func step(out io.Writer, what string, f func() (string, error)) (string, error) {
	start := time.Now()
	res, err := f()
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	logf(out, "%-28s ok  %-50s %5.1fs", what, res, time.Since(start).Seconds())
	return res, nil
}

func (s *stack) startServer(ctx context.Context, bin string) error {
	_, err := step(s.out, "Temporal server (authz on)", func() (string, error) {
		if err := s.local.StartServer(ctx, bin); err != nil {
			return "", err
		}
		return s.local.Server.Addr, nil
	})
	return err
}

func (s *stack) startRoles(ctx context.Context) error {
	for _, name := range roleNames {
		p, err := s.local.StartRole(ctx, name)
		if err != nil {
			return err
		}
		logf(s.out, "%-28s pid %d, log %s", "role "+name, p.Pid(), p.LogFile)
	}
	return nil
}

func (s *stack) printAddresses() {
	if s.local.Cluster != nil {
		logf(s.out, "Temporal frontend  %s (mTLS: client certificates in %s)", s.local.Cluster.FrontendAddr(),
			filepath.Dir(s.local.Cluster.Certs().ClientCertFile("x")))
	} else {
		logf(s.out, "Temporal frontend  %s", s.local.Server.Addr)
	}
	if s.cfg.uiPort != 0 {
		logf(s.out, "Temporal Web UI    http://localhost:%d/namespaces/default/workflows", s.cfg.uiPort)
	}
	logf(s.out, "approval gateway   %s (POST /v1/decisions)", s.local.GatewayURL())
	if s.local.Codec != nil {
		logf(s.out, "codec server       %s (readers sign in at /login for the Web UI; CLI: --codec-endpoint %s --codec-auth \"Bearer $(cat OPERATOR_KEY)\")",
			s.local.CodecURL(), s.local.CodecURL())
	}
	for _, role := range roleNames {
		if url, ok := s.metrics[role]; ok {
			logf(s.out, "metrics %-12s %s", role, url)
		}
	}
	logf(s.out, "logs               %s", s.logDir)
	logf(s.out, "binaries           %s", s.bin)
	s.printClientSettings()
}

// printClientSettings shows how the release manager's starter and an
// operator's Temporal CLI reach the server, each with its own API key.
func (s *stack) printClientSettings() {
	creds := s.local.Credentials()
	rel := func(p string) string {
		if r, err := filepath.Rel(s.cfg.root, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
	if s.local.Cluster != nil {
		s.printClusterClients(rel)
		return
	}
	logf(s.out, "release manager    TEMPORAL_ADDRESS=%s TEMPORAL_TLS_CA=%s TEMPORAL_API_KEY_FILE=%s FOUREYES_GATEWAY_URL=%s %s/starter list",
		s.local.Server.Addr, rel(creds.CAFile()), rel(creds.KeyFile(devstack.IdentityReleaseManager)), s.local.GatewayURL(), rel(s.bin))
	logf(s.out, "operator (CLI)     temporal workflow list --address %s --tls-ca-path %s --api-key \"$(cat %s)\"",
		s.local.Server.Addr, rel(creds.CAFile()), rel(creds.KeyFile(devstack.IdentityOperator)))
}

// serve waits for Ctrl-C or for a process to die.
func (s *stack) serve(ctx context.Context) int {
	logf(s.out, "running; Ctrl-C stops everything")
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			logf(s.out, "interrupted")
			return 0
		case <-tick.C:
			if err := s.local.Check(); err != nil {
				return s.fail(err)
			}
		}
	}
}

// shutdown stops the roles (in parallel), then the server.
func (s *stack) shutdown() {
	if s.local.Server == nil && s.local.Cluster == nil && len(s.local.Roles) == 0 {
		return
	}
	start := time.Now()
	n := s.local.Stop()
	what := "the server"
	if s.local.Cluster != nil {
		what = "the cluster (UI, worker, matching, history, frontend, PostgreSQL)"
	}
	logf(s.out, "stopped %d roles and %s in %.1fs", n, what, time.Since(start).Seconds())
}

func newStack(cfg upConfig, out io.Writer) *stack {
	return &stack{cfg: cfg, out: out, bin: cfg.binDir, logDir: filepath.Join(cfg.dataDir, "logs"),
		local: &devstack.Local{Root: cfg.root, DataDir: cfg.dataDir, BinDir: cfg.binDir,
			Port: cfg.port, UIPort: cfg.uiPort, GatewayPort: cfg.gatewayPort, CodecPort: cfg.codecPort}}
}
