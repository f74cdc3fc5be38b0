package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/config"
)

// The cluster's server processes, in start order. "frontend" also runs
// the internal frontend; "ui" only the Web UI (temporal-server --services).
var ClusterServices = []string{"frontend", "history", "matching", "worker", "ui"}

// memberServices are the Temporal services every process must know the
// address of (static membership).
var memberServices = []string{"frontend", "internal-frontend", "history", "matching", "worker"}

// Cluster is the production shape on one machine: PostgreSQL, the schema
// job, foureyes' Temporal server as four processes (frontend, history,
// matching, worker) with internode mTLS, and the Web UI as a fifth; every
// client by its own certificate.
type Cluster struct {
	Bin    string // temporal-server (EnsureTemporalServer)
	Dir    string // certificates, authorization config, database password (data/cluster)
	PGDir  string // PostgreSQL's data directory (data/pg)
	LogDir string
	Port   int // frontend; 0: free ports for every service
	UIPort int // 0: no UI
	PGPort int // 0: a free port

	Postgres *Postgres
	Hosts    map[string]string // service (memberServices) → 127.0.0.1:port
	mu       sync.Mutex
	procs    map[string]*Process
}

// Certs are the cluster's certificates and authorization config.
func (c *Cluster) Certs() Certs { return Certs{Dir: c.Dir} }

// FrontendAddr is where clients call.
func (c *Cluster) FrontendAddr() string { return c.Hosts["frontend"] }

// PasswordFile holds the temporal database user's password (0600).
func (c *Cluster) PasswordFile() string { return c.Certs().PasswordFile() }

// Start makes the certificates, starts PostgreSQL, runs the schema job and
// the five server processes, and waits until the frontend serves.
func (c *Cluster) Start(ctx context.Context, step func(what string, f func() (string, error)) error) error {
	if err := step("cluster certificates", func() (string, error) { return c.Dir, c.Certs().Ensure() }); err != nil {
		return err
	}
	if err := c.Plan(); err != nil {
		return err
	}
	if err := step("PostgreSQL", func() (string, error) { return c.Postgres.Addr() + " " + c.PGDir, c.Postgres.Start(ctx) }); err != nil {
		return err
	}
	if err := step("schema (temporal-sql-tool)", func() (string, error) { return "temporal, temporal_visibility", c.SetupSchema(ctx) }); err != nil {
		return err
	}
	// The frontend first: it registers the namespace on a new database.
	for _, s := range ClusterServices {
		if s == "ui" && c.UIPort == 0 {
			continue
		}
		if err := step("temporal "+s, func() (string, error) { return c.addrOf(s), c.StartService(s) }); err != nil {
			return err
		}
		if s != "frontend" {
			continue
		}
		if err := step("frontend serves (mTLS)", func() (string, error) { return c.FrontendAddr(), c.WaitServing(ctx, 90*time.Second) }); err != nil {
			return err
		}
	}
	return step("history knows the namespace", func() (string, error) { return "default", c.WaitReady(ctx, 90*time.Second) })
}

// WaitReady waits until history knows the namespace: a new namespace
// reaches its cache a moment after the frontend registered it (until then
// a start fails with NamespaceNotFound). Asked for a workflow it does not
// have, history answers NotFound once it knows the namespace.
func (c *Cluster) WaitReady(ctx context.Context, timeout time.Duration) error {
	return c.waitFor(ctx, timeout, func(ctx context.Context, cl client.Client) error {
		_, err := cl.WorkflowService().DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{
			Namespace: "default", Execution: &commonpb.WorkflowExecution{WorkflowId: "foureyes-readiness-probe"}})
		var nf *serviceerror.NotFound
		if err == nil || errors.As(err, &nf) {
			return nil
		}
		return err
	})
}

func (c *Cluster) addrOf(service string) string {
	if service == "ui" {
		return "http://localhost:" + strconv.Itoa(c.UIPort)
	}
	return c.Hosts[service]
}

// Plan picks the ports and describes PostgreSQL without starting anything:
// ServiceArgs and SchemaArgs are the command lines Start would run.
func (c *Cluster) Plan() error {
	if err := c.pickPorts(); err != nil {
		return err
	}
	c.Postgres = &Postgres{Dir: c.PGDir, PasswordFile: c.PasswordFile(), Port: c.PGPort, LogFile: filepath.Join(c.LogDir, "postgres.log")}
	return nil
}

// pickPorts: Temporal's own layout from Port (history +1, matching +2,
// internal frontend +3, worker +6), or free ports when Port is 0.
func (c *Cluster) pickPorts() error {
	offsets := map[string]int{"frontend": 0, "history": 1, "matching": 2, "internal-frontend": 3, "worker": 6}
	c.Hosts = map[string]string{}
	for _, s := range memberServices {
		port := c.Port + offsets[s]
		if c.Port == 0 {
			p, err := FreePort()
			if err != nil {
				return err
			}
			port = p
		}
		c.Hosts[s] = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	if c.PGPort == 0 {
		p, err := FreePort()
		if err != nil {
			return err
		}
		c.PGPort = p
	}
	return nil
}

// SetupSchema is the one-shot schema job: temporal-server setup-postgres
// (create both databases, set up and migrate them with temporal-sql-tool).
func (c *Cluster) SetupSchema(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, c.Bin, c.SchemaArgs()...)
	cmd.Env = BaseEnv()
	p, err := startProcess("schema", cmd, filepath.Join(c.LogDir, "temporal-schema.log"))
	if err != nil {
		return err
	}
	<-p.Done()
	if p.Err() != nil {
		return fmt.Errorf("temporal-server setup-postgres: %v:\n%s", p.Err(), p.LogTail(2000))
	}
	return nil
}

// SchemaArgs is the schema job's command line.
func (c *Cluster) SchemaArgs() []string {
	return append([]string{"setup-postgres"}, c.postgresArgs()...)
}

func (c *Cluster) postgresArgs() []string {
	return []string{"--postgres-addr", c.Postgres.Addr(), "--postgres-user", PostgresUser,
		"--postgres-password-file", c.PasswordFile(), "--postgres-db", "temporal", "--postgres-visibility-db", "temporal_visibility"}
}

// ServiceArgs is the command line of one server process (ClusterServices).
func (c *Cluster) ServiceArgs(service string) []string {
	k := c.Certs()
	args := []string{"--services", service, "--config", k.ConfigFile(), "--ip", "127.0.0.1", "--log-level", "warn"}
	if service == "ui" {
		return append(args, "--host", "frontend="+c.Hosts["frontend"], "--ui-port", strconv.Itoa(c.UIPort),
			"--tls-ca", k.CAFile(), "--ui-tls-cert", k.ClientCertFile(IdentityUI), "--ui-tls-key", k.ClientKeyFile(IdentityUI))
	}
	args = append(args, "--ui-port", "0") // the UI is a process of its own
	for _, s := range memberServices {
		args = append(args, "--host", s+"="+c.Hosts[s])
	}
	args = append(args, c.postgresArgs()...)
	args = append(args, "--internode-tls-cert", k.InternodeCertFile(), "--internode-tls-key", k.InternodeKeyFile(),
		"--internode-tls-ca", k.CAFile(), "--internode-tls-server-name", InternodeServerName)
	for _, kv := range DefaultTuning.DynamicConfig {
		args = append(args, "--dynamic-config", kv)
	}
	if service == "frontend" {
		args = append(args, "--tls-cert", k.FrontendCertFile(), "--tls-key", k.FrontendKeyFile(), "--tls-client-ca", k.CAFile())
		for _, nameType := range api.SearchAttributes {
			args = append(args, "--search-attribute", nameType)
		}
	}
	return args
}

// StartService starts (or restarts) one server process.
func (c *Cluster) StartService(service string) error {
	cmd := exec.Command(c.Bin, c.ServiceArgs(service)...)
	cmd.Env = BaseEnv()
	p, err := startProcess("temporal-"+service, cmd, filepath.Join(c.LogDir, "temporal-"+service+".log"))
	if err != nil {
		return err
	}
	p.Addr = c.addrOf(service)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.procs == nil {
		c.procs = map[string]*Process{}
	}
	c.procs[service] = p
	return nil
}

// Process is a running server process ("postgres" for the database).
func (c *Cluster) Process(service string) *Process {
	if service == "postgres" {
		return c.Postgres.Proc
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[service]
}

// Crash SIGKILLs a service ("postgres" too) and starts it again, as a
// supervisor would; it returns how long it was down.
func (c *Cluster) Crash(ctx context.Context, service string) (time.Duration, error) {
	p := c.Process(service)
	if p == nil {
		return 0, fmt.Errorf("no process %s", service)
	}
	began := time.Now()
	var err error
	if service == "postgres" {
		if err = c.Postgres.Crash(); err == nil {
			err = c.Postgres.Start(ctx)
		}
	} else if err = p.Kill(); err == nil {
		err = c.StartService(service)
	}
	return time.Since(began), err
}

// WaitServing dials the frontend as the operator until it describes the
// namespace (the frontend registers it on a new database).
func (c *Cluster) WaitServing(ctx context.Context, timeout time.Duration) error {
	return c.waitFor(ctx, timeout, func(ctx context.Context, cl client.Client) error {
		_, err := cl.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
		return err
	})
}

// waitFor calls probe as the operator until it succeeds, a process exits or
// timeout passes.
func (c *Cluster) waitFor(ctx context.Context, timeout time.Duration, probe func(context.Context, client.Client) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if err := c.Check(); err != nil {
			return err
		}
		if last = c.call(ctx, IdentityOperator, probe); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster frontend %s not ready after %s: %v", c.FrontendAddr(), timeout, last)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// call dials as identity ("" : no certificate) and runs f.
func (c *Cluster) call(ctx context.Context, identity string, f func(context.Context, client.Client) error) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cl, err := c.Dial(ctx, identity)
	if err != nil {
		return err
	}
	defer cl.Close()
	return f(ctx, cl)
}

// Temporal is how identity reaches the cluster: its certificate, the CA.
func (c *Cluster) Temporal(identity string) config.Temporal {
	k := c.Certs()
	t := config.Temporal{Address: c.FrontendAddr(), Namespace: "default", TLSCA: k.CAFile(), Compression: "none"}
	if identity != "" {
		t.TLSCert, t.TLSKey = k.ClientCertFile(identity), k.ClientKeyFile(identity)
		t.PayloadKeyFile = payloadKeyFile(k.Dir)
	}
	return t
}

// Dial connects to the frontend as identity ("" : no certificate).
func (c *Cluster) Dial(ctx context.Context, identity string) (client.Client, error) {
	return dialTemporal(ctx, c.Temporal(identity), "foureyes-stack-"+identity)
}

// ClientEnv is the TEMPORAL_* environment of identity: its own certificate.
func (c *Cluster) ClientEnv(identity string) []string {
	return c.Certs().ClientEnv(c.FrontendAddr(), identity)
}

// RefusedWithoutCertificate calls the frontend with no client certificate;
// it returns the refusal, or an error if the call was served.
func (c *Cluster) RefusedWithoutCertificate(ctx context.Context) (string, error) {
	err := c.call(ctx, "", func(ctx context.Context, cl client.Client) error {
		_, err := cl.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
		return err
	})
	if err == nil {
		return "", errors.New("a client without a certificate was served")
	}
	return err.Error(), nil
}

// Check fails if a process of the cluster has exited.
func (c *Cluster) Check() error {
	for _, p := range c.processes() {
		if p.Exited() {
			return fmt.Errorf("%s exited (%v); last log lines of %s:\n%s", p.Name, p.Err(), p.LogFile, p.LogTail(1500))
		}
	}
	return nil
}

func (c *Cluster) processes() []*Process {
	var ps []*Process
	if c.Postgres != nil && c.Postgres.Proc != nil {
		ps = append(ps, c.Postgres.Proc)
	}
	for _, s := range ClusterServices {
		if p := c.Process(s); p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// Stop stops the UI and the services (last started first), then PostgreSQL.
func (c *Cluster) Stop() {
	for i := len(ClusterServices) - 1; i >= 0; i-- {
		if p := c.Process(ClusterServices[i]); p != nil {
			_ = p.Stop()
		}
	}
	if c.Postgres != nil {
		_ = c.Postgres.Stop()
	}
}

// ComposeFrontendHost is the frontend's host name in docker-compose.yml (in
// the frontend's certificate beside localhost).
const ComposeFrontendHost = "temporal-frontend"
