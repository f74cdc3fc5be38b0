package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/devstack"
)

// Roles in start order (orchestrator first).
var roleNames = config.Roles

type upConfig struct {
	root, dataDir, binDir     string
	port, uiPort, gatewayPort int
	demo, exitAfterDemo       bool
}

// stack is one running local stack.
type stack struct {
	cfg    upConfig
	out    io.Writer
	bin    string // folder with worker and starter
	logDir string
	server *devstack.Process
	roles  []*devstack.Process
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
	fs.StringVar(&c.dataDir, "data", filepath.Join(root, "data"), "data folder")
	fs.StringVar(&c.binDir, "bin", filepath.Join(root, ".tools", "bin"), "where worker and starter are built")
	fs.BoolVar(&c.demo, "demo", true, "run the demo release")
	fs.BoolVar(&c.exitAfterDemo, "exit-after-demo", false, "exit after the demo: 0 if it reached deployed")
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
	s := &stack{cfg: cfg, out: out, bin: cfg.binDir, logDir: filepath.Join(cfg.dataDir, "logs")}
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
	for _, d := range []string{"artifacts", "deployments", "logs"} {
		if err := os.MkdirAll(filepath.Join(s.cfg.dataDir, d), 0o755); err != nil {
			return err
		}
	}
	cli, err := step(s.out, "Temporal CLI", func() (string, error) { return devstack.EnsureTemporalCLI(s.cfg.root, s.out) })
	if err != nil {
		return err
	}
	if _, err := step(s.out, "build worker and starter", func() (string, error) {
		return s.bin, devstack.BuildBinaries(s.cfg.root, s.bin, s.out)
	}); err != nil {
		return err
	}
	if err := s.startServer(ctx, cli); err != nil {
		return err
	}
	if err := s.startRoles(ctx); err != nil {
		return err
	}
	_, err = step(s.out, "gateway /healthz", func() (string, error) { return s.gatewayURL(), s.waitGateway(ctx) })
	return err
}

// checkPorts fails early, with a hint, when a port is taken.
func (s *stack) checkPorts() error {
	ports := map[string]int{"--port": s.cfg.port, "--ui-port": s.cfg.uiPort, "--gateway-port": s.cfg.gatewayPort}
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

func (s *stack) startServer(ctx context.Context, cli string) error {
	_, err := step(s.out, "Temporal dev server", func() (string, error) {
		p, err := devstack.StartServer(ctx, devstack.ServerOptions{
			CLIPath: cli, DBFile: filepath.Join(s.cfg.dataDir, "temporal.db"),
			Port: s.cfg.port, UIPort: s.cfg.uiPort, LogFile: filepath.Join(s.logDir, "temporal.log"),
		})
		if err != nil {
			return "", err
		}
		s.server = p
		return p.Addr, nil
	})
	return err
}

func (s *stack) startRoles(ctx context.Context) error {
	for _, name := range roleNames {
		env, err := s.roleEnv(name)
		if err != nil {
			return err
		}
		p, err := devstack.StartRole(ctx, filepath.Join(s.bin, "worker"), devstack.Role{Name: name, Env: env}, s.logDir)
		if err != nil {
			return err
		}
		s.roles = append(s.roles, p)
		logf(s.out, "%-28s pid %d, log %s", "role "+name, p.Pid(), p.LogFile)
	}
	return nil
}

// roleEnv is deploy/env/<role>.env with the stack's address, paths and ports
// and the role's own secrets (only) passed on from the stack's environment.
func (s *stack) roleEnv(name string) ([]string, error) {
	env, err := devstack.ReadEnvFile(filepath.Join(s.cfg.root, "deploy", "env", name+".env"))
	if err != nil {
		return nil, err
	}
	env = devstack.SetEnv(env, "TEMPORAL_ADDRESS", s.server.Addr)
	for k, v := range s.overrides()[name] {
		env = devstack.SetEnv(env, k, v)
	}
	for _, k := range config.SecretVars(name) {
		if v := os.Getenv(k); v != "" {
			env = devstack.SetEnv(env, k, v)
		}
	}
	return env, nil
}

func (s *stack) overrides() map[string]map[string]string {
	policy := filepath.Join(s.cfg.root, "deploy", "policy.yaml")
	artifacts := filepath.Join(s.cfg.dataDir, "artifacts")
	approval := map[string]string{"FOUREYES_APPROVAL_POLICY_FILE": policy, "FOUREYES_APPROVAL_LISTEN": s.gatewayAddr()}
	if s.cfg.uiPort != 0 {
		approval["FOUREYES_APPROVAL_UI_URL"] = "http://localhost:" + strconv.Itoa(s.cfg.uiPort)
	}
	return map[string]map[string]string{
		"orchestrator": {"FOUREYES_ORCHESTRATOR_POLICY_FILE": policy},
		"build":        {"FOUREYES_BUILD_ARTIFACT_DIR": artifacts},
		"review":       {"FOUREYES_REVIEW_ARTIFACT_DIR": artifacts},
		"approval":     approval,
		"deploy":       {"FOUREYES_DEPLOY_ARTIFACT_DIR": artifacts, "FOUREYES_DEPLOY_STATE_DIR": filepath.Join(s.cfg.dataDir, "deployments")},
	}
}

func (s *stack) gatewayAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.cfg.gatewayPort))
}

func (s *stack) gatewayURL() string { return "http://" + s.gatewayAddr() }

// waitGateway polls GET /healthz until 200, failing early if a role exits.
func (s *stack) waitGateway(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	last := errors.New("no answer yet")
	for {
		if err := s.checkRoles(); err != nil {
			return err
		}
		if resp, err := hc.Get(s.gatewayURL() + "/healthz"); err != nil {
			last = err
		} else {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("status %s", resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s/healthz not ready after 60s: %v", s.gatewayURL(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// checkRoles fails if a role or the server has exited.
func (s *stack) checkRoles() error {
	for _, p := range append([]*devstack.Process{s.server}, s.roles...) {
		if p != nil && p.Exited() {
			return fmt.Errorf("%s exited (%v); last log lines of %s:\n%s", p.Name, p.Err(), p.LogFile, p.LogTail(1500))
		}
	}
	return nil
}

func (s *stack) printAddresses() {
	logf(s.out, "Temporal frontend  %s", s.server.Addr)
	if s.cfg.uiPort != 0 {
		logf(s.out, "Temporal Web UI    http://localhost:%d/namespaces/default/workflows", s.cfg.uiPort)
	}
	logf(s.out, "approval gateway   %s (POST /v1/decisions)", s.gatewayURL())
	logf(s.out, "logs               %s", s.logDir)
	logf(s.out, "binaries           %s (starter: TEMPORAL_ADDRESS=%s FOUREYES_GATEWAY_URL=%s)", s.bin, s.server.Addr, s.gatewayURL())
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
			if err := s.checkRoles(); err != nil {
				return s.fail(err)
			}
		}
	}
}

// shutdown stops the roles (in parallel), then the server.
func (s *stack) shutdown() {
	if len(s.roles) == 0 && s.server == nil {
		return
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, p := range s.roles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Stop(); err != nil {
				logf(s.out, "stop %s: %v", p.Name, err)
			}
		}()
	}
	wg.Wait()
	if s.server != nil {
		s.server.Stop()
	}
	logf(s.out, "stopped %d roles and the server in %.1fs", len(s.roles), time.Since(start).Seconds())
	s.roles, s.server = nil, nil
}
