package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"gopkg.in/yaml.v3"

	"github.com/foureyes/foureyes/formats/authzconfig"
	"github.com/foureyes/foureyes/temporal-server/internal/devserver"
	"github.com/foureyes/foureyes/temporal-server/internal/figures"
)

// TestMain: with FOUREYES_TEST_SERVER_ARGS (a JSON list) this test binary is
// a temporal-server process: the cluster test runs each service as one.
func TestMain(m *testing.M) {
	if a := os.Getenv("FOUREYES_TEST_SERVER_ARGS"); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			fmt.Fprintln(os.Stderr, "FOUREYES_TEST_SERVER_ARGS:", err)
			os.Exit(2)
		}
		if err := run(args, os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "temporal-server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serverProcess is one service of the test cluster, a child process.
type serverProcess struct {
	name, dir string
	args      []string
	cmd       *exec.Cmd
}

func (p *serverProcess) start(t *testing.T) {
	t.Helper()
	a, _ := json.Marshal(p.args)
	p.cmd = exec.Command(os.Args[0])
	p.cmd.Env = append(os.Environ(), "FOUREYES_TEST_SERVER_ARGS="+string(a))
	out, err := os.OpenFile(filepath.Join(p.dir, p.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
}

// kill: SIGKILL, as a crash; stop: SIGTERM, as an operator.
func (p *serverProcess) kill() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() }
func (p *serverProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		p.kill()
	}
}

func (p *serverProcess) log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, p.name+".log"))
	return string(b)
}

// issueInternode writes the certificate every service presents as server
// and as client: named temporal-internode (and 127.0.0.1).
func (ca *testCA) issueInternode(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "temporal-internode"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    []string{"temporal-internode"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(ca.dir, "internode.pem"), filepath.Join(ca.dir, "internode.key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	return certFile, keyFile
}

// TestCluster: PostgreSQL set up by setup-postgres (twice: the second run
// changes nothing), the server as four processes (frontend, history,
// matching, worker) and the UI as a fifth, internode mTLS, clients by
// certificate; a release runs through them while history and matching are
// SIGKILLed and restarted.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and five server processes")
	}
	pg := startTestPostgres(t)
	dir := t.TempDir()
	pgo := devserver.PostgresOptions{Addr: pg.Addr, User: "temporal", Database: "temporal", Visibility: "temporal_visibility"}
	for i := range 2 {
		began := time.Now()
		if err := devserver.SetupPostgres(pgo); err != nil {
			t.Fatalf("setup-postgres, run %d: %v", i+1, err)
		}
		t.Logf("setup-postgres run %d: %s", i+1, time.Since(began).Round(time.Millisecond))
	}
	procs, hosts, uiAddr := startTestCluster(t, dir, pg.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dial := clusterDialer(ctx, t, dir, hosts["frontend"])

	if c, err := dial(""); err == nil {
		if _, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"}); err == nil {
			t.Error("a client without a certificate was served")
		}
	}
	runSmokeWorkers(t, dial)
	rm, approval := mustDial(t, dial, "release-manager"), mustDial(t, dial, "foureyes-approval")
	for err := historyKnowsNamespace(ctx, rm); err != nil; err = historyKnowsNamespace(ctx, rm) {
		if ctx.Err() != nil {
			t.Fatalf("history never learnt the namespace: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	wr, err := rm.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "release-cluster", TaskQueue: "foureyes-orchestrator",
		WorkflowExecutionTimeout: 3 * time.Minute}, "Release")
	if err != nil {
		t.Fatalf("start by the release manager: %v", err)
	}
	for _, name := range []string{"history", "matching"} {
		began := time.Now()
		procs[name].kill()
		procs[name].start(t)
		t.Logf("%s SIGKILLed and restarted (%s)", name, time.Since(began).Round(time.Millisecond))
	}
	upd := client.UpdateWorkflowOptions{WorkflowID: wr.GetID(), UpdateName: "decide", Args: []any{"approve"},
		WaitForStage: client.WorkflowUpdateStageCompleted}
	if _, err := approval.UpdateWorkflow(ctx, upd); err != nil {
		t.Fatalf("decide by the approval role after the restarts: %v\n%s", err, procs["history"].log())
	}
	var result string
	if err := wr.Get(ctx, &result); err != nil || result != "deployed artifact" {
		t.Fatalf("release: %q, %v", result, err)
	}
	if status, body := uiList(ctx, t, uiAddr, "release-cluster"); status != http.StatusOK || !strings.Contains(body, "release-cluster") {
		t.Errorf("UI (its own process, operator certificate): %d %s", status, body)
	}
	for _, s := range []string{"history", "matching", "internal-frontend"} {
		var out bytes.Buffer
		err := health([]string{"--address", hosts[s], "--tls-cert", filepath.Join(dir, "internode.pem"), "--tls-key",
			filepath.Join(dir, "internode.key"), "--tls-ca", filepath.Join(dir, "ca.pem"), "--tls-server-name", "temporal-internode"}, &out, &out)
		if err != nil {
			t.Errorf("temporal-server health of %s (the compose healthcheck): %v", s, err)
		}
	}
	var out bytes.Buffer
	if err := health([]string{"--address", hosts["history"], "--tls-ca", filepath.Join(dir, "ca.pem"),
		"--tls-server-name", "temporal-internode"}, &out, &out); err == nil {
		t.Error("history answered a health check without the internode certificate")
	}
	figures.Report(t, "cluster: release through 4 server processes on PostgreSQL %s, history and matching SIGKILLed mid-release", pg.Addr)
}

func mustDial(t *testing.T, dial func(string) (client.Client, error), cn string) client.Client {
	t.Helper()
	c, err := dial(cn)
	if err != nil {
		t.Fatalf("dial as %s: %v", cn, err)
	}
	return c
}

var clusterClients = []string{"foureyes-orchestrator", "foureyes-build", "foureyes-deploy", "foureyes-approval", "release-manager", "operator-ui"}

// startTestCluster writes the certificates and the authorization config,
// then starts frontend, history, matching, worker and ui; it returns once
// the frontend serves the release manager.
func startTestCluster(t *testing.T, dir, pgAddr string) (map[string]*serverProcess, map[string]string, string) {
	t.Helper()
	ca := newTestCA(t, dir)
	feCert, feKey := ca.issue(t, "frontend", pkix.Name{CommonName: "temporal-frontend"}, true)
	inCert, inKey := ca.issueInternode(t)
	cfg := authzconfig.Config{Namespace: "default", Roles: authzconfig.DefaultRoles()}
	roles := map[string]string{"foureyes-orchestrator": authzconfig.RoleOrchestrator, "foureyes-build": authzconfig.RoleBuild,
		"foureyes-deploy": authzconfig.RoleDeploy, "foureyes-approval": authzconfig.RoleApproval,
		"release-manager": authzconfig.RoleReleaseManager, "operator-ui": authzconfig.RoleOperator}
	for _, cn := range clusterClients {
		ca.issue(t, cn, pkix.Name{CommonName: cn, Organization: []string{"foureyes-test"}}, false)
		cfg.Identities = append(cfg.Identities, authzconfig.Identity{Name: cn, Role: roles[cn], CertSubject: "CN=" + cn + ",O=foureyes-test"})
	}
	var buf bytes.Buffer
	if err := yaml.NewEncoder(&buf).Encode(cfg); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "temporal-server.yaml")
	if err := os.WriteFile(cfgFile, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	hosts := map[string]string{}
	common := []string{"--config", cfgFile, "--log-level", "error", "--postgres-addr", pgAddr,
		"--internode-tls-cert", inCert, "--internode-tls-key", inKey, "--internode-tls-ca", filepath.Join(dir, "ca.pem"),
		"--dynamic-config", "matching.numTaskqueueReadPartitions=1", "--dynamic-config", "matching.numTaskqueueWritePartitions=1"}
	for _, s := range []string{"frontend", "internal-frontend", "history", "matching", "worker"} {
		port, _ := devserver.FreePort("127.0.0.1")
		hosts[s] = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		common = append(common, "--host", s+"="+hosts[s])
	}
	uiPort, _ := devserver.FreePort("127.0.0.1")
	procs := map[string]*serverProcess{}
	for _, s := range []string{"frontend", "history", "matching", "worker", "ui"} {
		args := append(append([]string{}, common...), "--services", s, "--ui-port", "0")
		switch s {
		case "frontend":
			args = append(args, "--tls-cert", feCert, "--tls-key", feKey, "--tls-client-ca", filepath.Join(dir, "ca.pem"))
		case "ui":
			args = append(args, "--ui-port", strconv.Itoa(uiPort), "--tls-ca", filepath.Join(dir, "ca.pem"),
				"--ui-tls-cert", filepath.Join(dir, "operator-ui.pem"), "--ui-tls-key", filepath.Join(dir, "operator-ui.key"))
		}
		procs[s] = &serverProcess{name: s, dir: dir, args: args}
		procs[s].start(t)
		t.Cleanup(procs[s].stop)
	}
	return procs, hosts, net.JoinHostPort("127.0.0.1", strconv.Itoa(uiPort))
}

// clusterDialer dials the frontend with CN's client certificate ("" for
// none), retrying for a minute while the cluster starts.
func clusterDialer(ctx context.Context, t *testing.T, dir, addr string) func(cn string) (client.Client, error) {
	pem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	return func(cn string) (client.Client, error) {
		tc := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		if cn != "" {
			pair, err := tls.LoadX509KeyPair(filepath.Join(dir, cn+".pem"), filepath.Join(dir, cn+".key"))
			if err != nil {
				return nil, err
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		opts := client.Options{HostPort: addr, Namespace: "default", Identity: cn, ConnectionOptions: client.ConnectionOptions{TLS: tc},
			Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}
		deadline := time.Now().Add(time.Minute)
		for {
			c, err := client.DialContext(ctx, opts)
			if err == nil {
				_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
				if err == nil || cn == "" {
					t.Cleanup(c.Close)
					return c, nil
				}
				c.Close()
			}
			if cn == "" || time.Now().After(deadline) {
				return nil, err
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
}

// historyKnowsNamespace: a new namespace reaches history's cache a moment
// after the frontend registered it; until then history answers
// NamespaceNotFound where it will answer NotFound for a workflow it lacks.
func historyKnowsNamespace(ctx context.Context, c client.Client) error {
	_, err := c.WorkflowService().DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{
		Namespace: "default", Execution: &commonpb.WorkflowExecution{WorkflowId: "readiness-probe"}})
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil
	}
	if err == nil {
		return nil
	}
	return err
}

// runSmokeWorkers: the orchestrator runs smokeRelease, build and deploy
// their activities, each by its own certificate.
func runSmokeWorkers(t *testing.T, dial func(string) (client.Client, error)) {
	t.Helper()
	run := func(cn, queue string, register func(worker.Worker)) {
		w := worker.New(mustDial(t, dial, cn), queue, worker.Options{DisableWorkflowWorker: queue != "foureyes-orchestrator"})
		register(w)
		if err := w.Start(); err != nil {
			t.Fatalf("worker %s: %v", cn, err)
		}
		t.Cleanup(w.Stop)
	}
	run("foureyes-orchestrator", "foureyes-orchestrator", func(w worker.Worker) {
		w.RegisterWorkflowWithOptions(smokeRelease, workflow.RegisterOptions{Name: "Release"})
	})
	run("foureyes-build", "foureyes-build", func(w worker.Worker) {
		w.RegisterActivityWithOptions(func(context.Context) (string, error) { return "artifact", nil },
			activity.RegisterOptions{Name: "Build"})
	})
	run("foureyes-deploy", "foureyes-deploy", func(w worker.Worker) {
		w.RegisterActivityWithOptions(func(_ context.Context, a string) (string, error) { return "deployed " + a, nil },
			activity.RegisterOptions{Name: "Deploy"})
	})
}
