package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/tracing"
)

// Local is foureyes on this machine: foureyes' Temporal server and the five roles, each
// its own process. The stack command, the integration tests and the fault
// suite all start it this way, so what they test is what users run.
type Local struct {
	Root, DataDir, BinDir string
	Port, UIPort          int // UIPort 0: no Web UI
	GatewayPort           int
	// Extra holds more KEY=VALUE settings per role (e.g. Slack in tests).
	Extra map[string][]string
	// Tuning of the server; nil means DefaultTuning.
	Tuning *Tuning
	// BasePolicy is the policy without keys that PolicyFile is composed
	// from; "" means Root/deployments/policy.yaml.
	BasePolicy string

	// PlaintextPayloads: clients get no payload key (the bench's "off"
	// run); by default every payload is encrypted (codec).
	PlaintextPayloads bool
	// PayloadKeys: the key ring the roles and clients get, active first
	// (a rotation); nil: the stack's own key (Credentials.PayloadKeyFile).
	PayloadKeys []string
	// Untraced: no process gets a tracing setting (the bench's "tracing
	// off" run); by default each traces (TraceEnv).
	Untraced bool

	// Cluster, when set, is the server instead of Server: the roles call
	// its frontend with their own certificates (cluster.go).
	Cluster *Cluster

	Server *Process
	Roles  map[string]*Process
	// Codec is the codec server (StartCodecServer), on CodecPort (0: a
	// free one, picked at start).
	Codec     *Process
	CodecPort int
	mu        sync.Mutex
}

// LogDir is where every process of the stack logs.
func (l *Local) LogDir() string { return filepath.Join(l.DataDir, "logs") }

// GatewayAddr is the approval role's listen address.
func (l *Local) GatewayAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(l.GatewayPort))
}

// GatewayURL is the base URL of the decision gateway.
func (l *Local) GatewayURL() string { return "http://" + l.GatewayAddr() }

// PolicyFile is the policy every role of the local stack (and the demo)
// reads: BasePolicy followed by the public keys of KeyDir (WriteKeys).
func (l *Local) PolicyFile() string { return filepath.Join(l.DataDir, "policy.yaml") }

// KeyDir holds each signing role's key pair, ROLE.key and ROLE.pub (0700).
func (l *Local) KeyDir() string { return filepath.Join(l.DataDir, "keys") }

// KeyFile is role's private key, given to that role only.
func (l *Local) KeyFile(role string) string { return filepath.Join(l.KeyDir(), role+".key") }

func (l *Local) basePolicy() string {
	if l.BasePolicy != "" {
		return l.BasePolicy
	}
	return filepath.Join(l.Root, "deployments", "policy.yaml")
}

// MakeDirs creates the data folders, the demo repositories, the signing
// keys and the policy.
func (l *Local) MakeDirs() error {
	for _, d := range []string{"artifacts", "deployments", "logs", "build"} {
		if err := os.MkdirAll(filepath.Join(l.DataDir, d), 0o755); err != nil {
			return err
		}
	}
	if err := MakeDemoRepositories(l.RepoDir()); err != nil {
		return err
	}
	if err := RetirePreGitRecords(filepath.Join(l.DataDir, "deployments"), l.RepoDir()); err != nil {
		return err
	}
	return l.WriteKeys()
}

// RepoDir holds the demo repositories the sample policy names
// (repos/payments, repos/ledger: relative to data/policy.yaml).
func (l *Local) RepoDir() string { return filepath.Join(l.DataDir, "repos") }

// WriteKeys generates a key pair per signing role on first use (later runs
// reuse them) and composes PolicyFile, rewritten only when it would change.
func (l *Local) WriteKeys() error {
	keys, err := EnsureKeys(l.KeyDir())
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	return WritePolicy(l.basePolicy(), l.PolicyFile(), keys)
}

// Credentials is the stack's server authorization: data/temporal/ holds
// the server's config, an API key per identity and the local CA.
func (l *Local) Credentials() Credentials {
	return Credentials{Dir: filepath.Join(l.DataDir, "temporal"), PlaintextPayloads: l.PlaintextPayloads,
		PayloadKeys: l.PayloadKeys}
}

// ServerConfigFile is the running server's authorization config: the
// cluster's (data/cluster) when the stack is the cluster, else the local
// server's (data/temporal). Callers ask here, not the shape they assume.
func (l *Local) ServerConfigFile() string {
	if l.Cluster != nil {
		return l.Cluster.Certs().ConfigFile()
	}
	return l.Credentials().ConfigFile()
}

// StartServer starts foureyes' Temporal server (bin: EnsureTemporalServer)
// on the stack's SQLite file, data/temporal/temporal-server.db.
func (l *Local) StartServer(ctx context.Context, bin string) (err error) {
	t := DefaultTuning
	if l.Tuning != nil {
		t = *l.Tuning
	}
	creds := l.Credentials()
	if err := creds.Ensure(); err != nil {
		return fmt.Errorf("server credentials in %s: %w", creds.Dir, err)
	}
	codecURL := ""
	if l.UIPort != 0 {
		if l.CodecPort == 0 { // known before the UI starts, which points at it
			if l.CodecPort, err = FreePort(); err != nil {
				return err
			}
		}
		codecURL = "http://localhost:" + strconv.Itoa(l.CodecPort)
	}
	p, err := StartServer(ctx, ServerOptions{
		Bin: bin, Creds: creds, DataDir: creds.Dir, Port: l.Port, UIPort: l.UIPort, UICodec: codecURL,
		LogFile: filepath.Join(l.LogDir(), "temporal.log"), SQLitePragmas: t.SQLitePragmas, DynamicConfig: t.DynamicConfig, PprofListen: t.PprofListen, MetricsPort: t.MetricsPort,
	})
	if err == nil {
		l.Server = p
	}
	return err
}

// StartRoles starts every role, orchestrator first.
func (l *Local) StartRoles(ctx context.Context) error {
	for _, name := range config.Roles {
		if _, err := l.StartRole(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// StartRole starts (or restarts) one role with only its own environment.
func (l *Local) StartRole(ctx context.Context, name string) (*Process, error) {
	env, err := l.RoleEnv(name)
	if err != nil {
		return nil, err
	}
	p, err := StartRole(ctx, filepath.Join(l.BinDir, "worker"), Role{Name: name, Env: env}, l.LogDir())
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Roles == nil {
		l.Roles = map[string]*Process{}
	}
	l.Roles[name] = p
	return p, nil
}

// RoleEnv is deployments/env/<role>.env with the role's own secrets (only) from
// this process's environment, then the stack's address, paths, ports and
// the role's own signing key (which a shell variable cannot replace), then
// Extra. It is the only place a role's environment is made.
func (l *Local) RoleEnv(name string) ([]string, error) {
	env, err := ReadEnvFile(filepath.Join(l.Root, "deployments", "env", name+".env"))
	if err != nil {
		return nil, err
	}
	for _, k := range config.SecretVars(name) {
		if v := os.Getenv(k); v != "" {
			env = SetEnv(env, k, v)
		}
	}
	if l.Server != nil || l.Cluster != nil {
		env = appendSettings(env, l.ClientEnv(RoleIdentity(name)))
	}
	// The server is on this host: gzip would only cost CPU on both sides.
	env = SetEnv(env, "TEMPORAL_GRPC_COMPRESSION", "none")
	for k, v := range l.overrides()[name] {
		env = SetEnv(env, k, v)
	}
	env = SetEnv(env, KeyFileVar(name), l.KeyFile(name))
	env = appendSettings(env, l.TraceEnv(name))
	return appendSettings(env, l.Extra[name]), nil
}

// TracesDir is where the stack's processes write their spans when no
// collector is set: one JSON-lines file per process (TraceEnv).
func (l *Local) TracesDir() string { return filepath.Join(l.DataDir, "traces") }

// TraceEnv is the tracing environment of the stack's process name (a role,
// or "starter"): service foureyes-NAME, and this process's own OTEL_*
// variables (a collector: OTEL_EXPORTER_OTLP_ENDPOINT, its headers,
// protocol, sampler); without a collector, spans go to
// TracesDir()/NAME.jsonl. Nothing when Untraced.
func (l *Local) TraceEnv(name string) []string {
	if l.Untraced {
		return nil
	}
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OTEL_") && !strings.HasPrefix(kv, "OTEL_SERVICE_NAME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "OTEL_SERVICE_NAME=foureyes-"+name)
	if ts := tracing.FromEnv(nil); ts.Endpoint == "" && ts.Exporter != "otlp" {
		env = append(env, "FOUREYES_TRACES_FILE="+filepath.Join(l.TracesDir(), name+".jsonl"))
	}
	return env
}

// ClientEnv is the TEMPORAL_* environment of a process calling the stack's
// server as identity (ServerIdentities), with only that identity's key.
func (l *Local) ClientEnv(identity string) []string {
	if l.Cluster != nil {
		return l.Cluster.ClientEnv(identity)
	}
	return l.Credentials().ClientEnv(l.Server.Addr, identity)
}

// Dial connects to the stack's server as identity.
func (l *Local) Dial(ctx context.Context, identity string) (client.Client, error) {
	if l.Cluster != nil {
		return l.Cluster.Dial(ctx, identity)
	}
	return l.Credentials().Dial(ctx, l.Server.Addr, identity)
}

func appendSettings(env, extra []string) []string {
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		env = SetEnv(env, k, v)
	}
	return env
}

func (l *Local) overrides() map[string]map[string]string {
	artifacts := filepath.Join(l.DataDir, "artifacts")
	approval := map[string]string{"FOUREYES_APPROVAL_POLICY_FILE": l.PolicyFile(), "FOUREYES_APPROVAL_LISTEN": l.GatewayAddr()}
	if l.UIPort != 0 {
		approval["FOUREYES_APPROVAL_UI_URL"] = "http://localhost:" + strconv.Itoa(l.UIPort)
	}
	return map[string]map[string]string{
		"orchestrator": {"FOUREYES_ORCHESTRATOR_POLICY_FILE": l.PolicyFile()},
		"build": {"FOUREYES_BUILD_ARTIFACT_DIR": artifacts, "FOUREYES_BUILD_STATE_DIR": filepath.Join(l.DataDir, "build"),
			// The build role's own copy of the policy (repositories, build commands).
			"FOUREYES_BUILD_POLICY_FILE": l.PolicyFile()},
		"review":   {"FOUREYES_REVIEW_ARTIFACT_DIR": artifacts},
		"approval": approval,
		"deploy": {"FOUREYES_DEPLOY_ARTIFACT_DIR": artifacts, "FOUREYES_DEPLOY_STATE_DIR": filepath.Join(l.DataDir, "deployments"),
			// The deploy role's own copy of the policy: on one machine, the same file.
			"FOUREYES_DEPLOY_POLICY_FILE": l.PolicyFile()},
	}
}

// WaitGateway polls GET /healthz until 200, failing early if a process exits.
func (l *Local) WaitGateway(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	last := errors.New("no answer yet")
	for {
		if err := l.Check(); err != nil {
			return err
		}
		if last = healthz(hc, l.GatewayURL()); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s/healthz not ready after %s: %v", l.GatewayURL(), timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func healthz(hc *http.Client, base string) error {
	resp, err := hc.Get(base + "/healthz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// Check fails if the server (or a process of the cluster) or a role has exited.
func (l *Local) Check() error {
	if l.Cluster != nil {
		if err := l.Cluster.Check(); err != nil {
			return err
		}
	}
	for _, p := range l.processes() {
		if p.Exited() {
			return fmt.Errorf("%s exited (%v); last log lines of %s:\n%s", p.Name, p.Err(), p.LogFile, p.LogTail(1500))
		}
	}
	return nil
}

func (l *Local) processes() []*Process {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ps []*Process
	if l.Server != nil {
		ps = append(ps, l.Server)
	}
	if l.Codec != nil {
		ps = append(ps, l.Codec)
	}
	for _, name := range config.Roles {
		if p := l.Roles[name]; p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// StopRoles stops every role in parallel.
func (l *Local) StopRoles() {
	var wg sync.WaitGroup
	for _, p := range l.processes() {
		if p == l.Server || p == l.Codec {
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = p.Stop() }()
	}
	wg.Wait()
	l.mu.Lock()
	l.Roles = nil
	l.mu.Unlock()
}

// Stop stops the roles, then the server. It returns how many roles it stopped.
func (l *Local) Stop() int {
	n := len(l.processes())
	if l.Server != nil {
		n--
	}
	l.StopRoles()
	if l.Codec != nil {
		_ = l.Codec.Stop()
		l.Codec = nil
		n--
	}
	if l.Server != nil {
		_ = l.Server.Stop()
		l.Server = nil
	}
	if l.Cluster != nil {
		l.Cluster.Stop()
	}
	return n
}
