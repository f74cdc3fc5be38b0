package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/common/log"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/foureyes/foureyes/formats/authzconfig"
	"github.com/foureyes/foureyes/temporal-server/internal/devserver"
	"github.com/foureyes/foureyes/temporal-server/internal/figures"
)

// testServer is a single-process server started as `temporal-server` does,
// with the config and keys of `temporal-server init`.
type testServer struct {
	*devserver.Server
	dir      string
	ca       *testCA // the frontend's TLS, nil without
	authzLog *syncBuffer
}

func startTestServer(ctx context.Context, t *testing.T, frontendTLS bool) *testServer {
	t.Helper()
	ts := &testServer{dir: t.TempDir(), authzLog: &syncBuffer{}}
	if err := initDir(ts.dir, io.Discard); err != nil {
		t.Fatal(err)
	}
	cfg, err := authzconfig.Load(filepath.Join(ts.dir, "temporal-server.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	o := devserver.Options{DBFile: filepath.Join(ts.dir, "temporal-server.db"), Authz: cfg,
		AuthzLog: slog.New(slog.NewJSONHandler(ts.authzLog, nil)), UIAPIKey: ts.key(t, "operator"),
		Logger: log.NewZapLogger(log.BuildZapLogger(log.Config{Level: "error", Format: "json"}))}
	o.Port, _ = devserver.FreePort("127.0.0.1")
	o.UIPort, _ = devserver.FreePort("127.0.0.1")
	if frontendTLS {
		ts.ca = newTestCA(t, ts.dir)
		o.TLS.CertFile, o.TLS.KeyFile = ts.ca.issue(t, "server", pkix.Name{CommonName: "temporal"}, true)
		o.TLS.CAFile = filepath.Join(ts.dir, "ca.pem")
	}
	if ts.Server, err = devserver.Start(ctx, o); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Stop)
	return ts
}

func (ts *testServer) key(t *testing.T, identity string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ts.dir, "keys", identity+".key"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// dial is an SDK client of the frontend with identity's API key.
func (ts *testServer) dial(ctx context.Context, t *testing.T, identity string) client.Client {
	t.Helper()
	opts := client.Options{HostPort: ts.FrontendAddr, Namespace: "default", Identity: identity,
		Credentials: client.NewAPIKeyStaticCredentials(ts.key(t, identity)),
		Logger:      sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}
	if ts.ca != nil {
		roots := x509.NewCertPool()
		roots.AddCert(ts.ca.cert)
		opts.ConnectionOptions.TLS = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	} else {
		opts.ConnectionOptions.TLSDisabled = true
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		t.Fatalf("dial as %s: %v", identity, err)
	}
	t.Cleanup(c.Close)
	return c
}

// listeningPorts are the TCP ports this process listens on: its sockets
// (/proc/self/fd) in LISTEN state in /proc/self/net/tcp and tcp6. The
// server runs in this test process, so these are the server's.
func listeningPorts(t *testing.T) []int {
	t.Helper()
	mine := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(l, "socket:[") {
			mine[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var ports []int
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		for _, p := range listenersIn(t, table, mine) {
			if !slices.Contains(ports, p) {
				ports = append(ports, p)
			}
		}
	}
	slices.Sort(ports)
	return ports
}

// listenersIn: the ports of table's LISTEN sockets (state 0A) whose inode is mine.
func listenersIn(t *testing.T, table string, mine map[string]bool) []int {
	t.Helper()
	b, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	var ports []int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != "0A" || !mine[f[9]] {
			continue
		}
		_, hexPort, _ := strings.Cut(f[1], ":")
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			t.Fatalf("%s: %q: %v", table, f[1], err)
		}
		ports = append(ports, int(p))
	}
	return ports
}

// gatedRelease runs Build on the build queue: the release stays running
// while Build waits for the test.
func gatedRelease(ctx workflow.Context) (string, error) {
	opts := workflow.ActivityOptions{TaskQueue: "foureyes-build", StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}}
	var built string
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), "Build").Get(ctx, &built)
	return built, err
}

// runGatedWorkers runs the orchestrator (gatedRelease) and the build role,
// whose Build returns once gate is closed.
func runGatedWorkers(ctx context.Context, t *testing.T, ts *testServer, gate chan struct{}) {
	t.Helper()
	orch := worker.New(ts.dial(ctx, t, "foureyes-orchestrator"), "foureyes-orchestrator", worker.Options{})
	orch.RegisterWorkflowWithOptions(gatedRelease, workflow.RegisterOptions{Name: "Release"})
	build := worker.New(ts.dial(ctx, t, "foureyes-build"), "foureyes-build", worker.Options{DisableWorkflowWorker: true})
	build.RegisterActivityWithOptions(func(ctx context.Context) (string, error) {
		select {
		case <-gate:
			return "artifact", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}, activity.RegisterOptions{Name: "Build"})
	for _, w := range []worker.Worker{orch, build} {
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}
}

// portAttack is one call an intruder makes on a port.
type portAttack struct {
	name string
	call func(ctx context.Context, conn *grpc.ClientConn) error
}

func portAttacks(releaseID string) []portAttack {
	wf := func(conn *grpc.ClientConn) workflowservice.WorkflowServiceClient {
		return workflowservice.NewWorkflowServiceClient(conn)
	}
	return []portAttack{
		{"grpc health Check", func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			return err
		}},
		{"DescribeNamespace", func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := wf(conn).DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
			return err
		}},
		{"TerminateWorkflowExecution of the release", func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := wf(conn).TerminateWorkflowExecution(ctx, &workflowservice.TerminateWorkflowExecutionRequest{
				Namespace: "default", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: releaseID}, Reason: "intruder"})
			return err
		}},
		{"StartWorkflowExecution", func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := wf(conn).StartWorkflowExecution(ctx, &workflowservice.StartWorkflowExecutionRequest{
				Namespace: "default", WorkflowId: "intruder", WorkflowType: &commonpb.WorkflowType{Name: "Release"},
				TaskQueue: &taskqueuepb.TaskQueue{Name: "foureyes-orchestrator"}, RequestId: "intruder"})
			return err
		}},
	}
}

// intruderCredentials: how a local process without the internode
// certificate can dial: plaintext, TLS with no client certificate (the
// server's certificate not checked, so that only the missing client one
// can fail), TLS with a client certificate of another CA.
func intruderCredentials(t *testing.T, foreign tls.Certificate) map[string]grpc.DialOption {
	t.Helper()
	noCert := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12} //nolint:gosec // the intruder does not care who answers
	foreignCert := noCert.Clone()
	foreignCert.Certificates = []tls.Certificate{foreign}
	return map[string]grpc.DialOption{
		"plaintext":                      grpc.WithTransportCredentials(insecure.NewCredentials()),
		"TLS without a client cert":      grpc.WithTransportCredentials(credentials.NewTLS(noCert)),
		"TLS with a foreign client cert": grpc.WithTransportCredentials(credentials.NewTLS(foreignCert)),
	}
}

// refusedAtTransport: the call never reached a handler (no connection:
// Unavailable), rather than an answer of the service (OK, Unimplemented,
// PermissionDenied, NotFound, …).
func refusedAtTransport(err error) bool {
	return err != nil && status.Code(err) == codes.Unavailable
}

// TestInternalPortsNeedInternodeMTLS: every port the server listens on but
// the frontend and the UI refuses a local intruder at the transport, while
// the server's own calls (internode mTLS) carry a release end to end.
func TestInternalPortsNeedInternodeMTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ts := startTestServer(ctx, t, true)
	gate := make(chan struct{})
	runGatedWorkers(ctx, t, ts, gate)
	rm, operator := ts.dial(ctx, t, "release-manager"), ts.dial(ctx, t, "operator")
	wr, err := rm.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "release-ports", TaskQueue: "foureyes-orchestrator"}, "Release")
	if err != nil {
		t.Fatal(err)
	}
	waitScheduled(ctx, t, operator, wr, "Build") // running, Build held by the gate

	ports := intruderPorts(t, ts)
	// A client certificate of another CA (the frontend's), named as the internode one.
	foreignCert, foreignKey := ts.ca.issue(t, "intruder", pkix.Name{CommonName: devserver.InternodeServerName}, false)
	foreignPair, err := tls.LoadX509KeyPair(foreignCert, foreignKey)
	if err != nil {
		t.Fatal(err)
	}
	refused, tried := 0, 0
	for _, port := range ports {
		for how, cred := range intruderCredentials(t, foreignPair) {
			r, n := attackPort(ctx, t, port, how, cred, portAttacks(wr.GetID()))
			refused, tried = refused+r, tried+n
		}
	}
	checkUntouched(ctx, t, operator, wr)
	close(gate)
	var result string
	if err := wr.Get(ctx, &result); err != nil || result != "artifact" {
		t.Fatalf("release after the attacks: %q, %v", result, err)
	}
	calls, denied := ts.Authorizer.InternalCounts()
	if calls == 0 || denied != 0 {
		t.Errorf("internal calls %d, denied %d: want some, none denied", calls, denied)
	}
	checkFrontendHealth(t, ts)
	figures.Report(t, "unauthenticated ports refused %d / %d (%d ports × plaintext, TLS without a client certificate, TLS with a foreign one × %d calls, at the handshake); the release ran end to end over internode mTLS (%d internal-frontend calls)",
		refused, tried, len(ports), len(portAttacks("")), calls)
}

// intruderPorts: every port of the process but the frontend and the UI;
// each internal service's port must be among them.
func intruderPorts(t *testing.T, ts *testServer) []int {
	t.Helper()
	skip := map[int]string{}
	for what, addr := range map[string]string{"frontend": ts.FrontendAddr, "UI": ts.UIAddr} {
		_, p, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(p)
		skip[n] = what
	}
	names := map[int]string{}
	for svc, addr := range ts.ServiceAddrs {
		_, p, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(p)
		names[n] = svc
	}
	var out []int
	for _, p := range listeningPorts(t) {
		if skip[p] == "" {
			out = append(out, p)
		}
	}
	for p, svc := range names {
		if !slices.Contains(out, p) {
			t.Fatalf("%s's port %d not among the listening ports %v", svc, p, out)
		}
	}
	t.Logf("listening: frontend/UI %v, attacked %v (known: %v)", skip, out, names)
	return out
}

// attackPort makes every call on 127.0.0.1:port with cred; it returns how
// many were refused at the transport and how many were tried.
func attackPort(ctx context.Context, t *testing.T, port int, how string, cred grpc.DialOption, attacks []portAttack) (int, int) {
	t.Helper()
	conn, err := grpc.NewClient(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cred)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	refused := 0
	for _, a := range attacks {
		callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := a.call(callCtx, conn)
		cancel()
		if refusedAtTransport(err) {
			refused++
			continue
		}
		t.Errorf("port %d, %s, %s: %v (code %s), want refused at the handshake (Unavailable)", port, how, a.name, err, status.Code(err))
	}
	return refused, len(attacks)
}

// checkUntouched: the release is still running and no intruder workflow exists.
func checkUntouched(ctx context.Context, t *testing.T, c client.Client, wr client.WorkflowRun) {
	t.Helper()
	d, err := c.DescribeWorkflowExecution(ctx, wr.GetID(), "")
	if err != nil {
		t.Fatal(err)
	}
	if st := d.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("release after the attacks: %s, want running", st)
	}
	var nf *serviceerror.NotFound
	if _, err := c.DescribeWorkflowExecution(ctx, "intruder", ""); !errors.As(err, &nf) {
		t.Errorf("workflow started by the intruder: %v, want NotFound", err)
	}
}

// checkFrontendHealth: `temporal-server health` still checks the frontend
// (TLS, no client certificate needed there).
func checkFrontendHealth(t *testing.T, ts *testServer) {
	t.Helper()
	var out bytes.Buffer
	err := health([]string{"--address", ts.FrontendAddr, "--tls-ca", filepath.Join(ts.dir, "ca.pem"),
		"--service", "temporal.api.workflowservice.v1.WorkflowService"}, &out, &out)
	if err != nil {
		t.Errorf("temporal-server health of the frontend: %v\n%s", err, out.String())
	}
}

// TestReleaseIDSingleRun: a release's workflow id has one run. Neither a
// closed release's id nor a running one's can be started again, whatever
// policy the caller asks for and whichever API; another workflow type and
// new release ids start as before.
func TestReleaseIDSingleRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ts := startTestServer(ctx, t, false)
	rm, admin := ts.dial(ctx, t, "release-manager"), ts.dial(ctx, t, "admin")
	start := func(id string, reuse enumspb.WorkflowIdReusePolicy) client.StartWorkflowOptions {
		return client.StartWorkflowOptions{ID: id, TaskQueue: "foureyes-orchestrator", WorkflowIDReusePolicy: reuse,
			WorkflowExecutionErrorWhenAlreadyStarted: true}
	}
	refused, tried := 0, 0
	for i, a := range reuseAttacks(rm, admin, start) {
		// Fresh targets for each attack: one that got through does not muddle the next.
		closed := mustStart(ctx, t, rm, start(fmt.Sprintf("release-closed-%d", i), 0), "Release")
		if err := admin.TerminateWorkflow(ctx, closed.GetID(), "", "closed for the test"); err != nil {
			t.Fatal(err)
		}
		running := mustStart(ctx, t, rm, start(fmt.Sprintf("release-running-%d", i), 0), "Release")
		for _, target := range []client.WorkflowRun{closed, running} {
			tried++
			if attemptReuse(ctx, t, admin, target, a) {
				refused++
			}
		}
	}
	// Unaffected: another type's id is reused; a new release id starts, with or without a policy.
	other := mustStart(ctx, t, admin, client.StartWorkflowOptions{ID: "other", TaskQueue: "other"}, "Other")
	if err := admin.TerminateWorkflow(ctx, other.GetID(), "", "closed for the test"); err != nil {
		t.Fatal(err)
	}
	again := mustStart(ctx, t, admin, client.StartWorkflowOptions{ID: "other", TaskQueue: "other",
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE}, "Other")
	if again.GetRunID() == other.GetRunID() {
		t.Error("workflow type Other: no new run under its closed id")
	}
	mustStart(ctx, t, rm, start("release-new", 0), "Release")
	mustStart(ctx, t, rm, start("release-new-explicit", enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE), "Release")
	if forced := strings.Count(ts.authzLog.String(), `"msg":"release id policy forced"`); forced == 0 {
		t.Error("no \"release id policy forced\" line in the log")
	}
	figures.Report(t, "release id reuse refused %d / %d (start, signal-with-start, update-with-start × ALLOW_DUPLICATE, ALLOW_DUPLICATE_FAILED_ONLY, TERMINATE_EXISTING, none × a closed and a running release); another type's id reused, new release ids started",
		refused, tried)
}

func mustStart(ctx context.Context, t *testing.T, c client.Client, o client.StartWorkflowOptions, typ string) client.WorkflowRun {
	t.Helper()
	wr, err := c.ExecuteWorkflow(ctx, o, typ)
	if err != nil {
		t.Fatalf("start %s %s: %v", typ, o.ID, err)
	}
	return wr
}

// reuseAttack starts a new run of Release under id, one way or another.
type reuseAttack struct {
	name string
	try  func(ctx context.Context, id string) error
}

func reuseAttacks(rm, admin client.Client, start func(string, enumspb.WorkflowIdReusePolicy) client.StartWorkflowOptions) []reuseAttack {
	startWith := func(c client.Client, reuse enumspb.WorkflowIdReusePolicy, conflict enumspb.WorkflowIdConflictPolicy) func(context.Context, string) error {
		return func(ctx context.Context, id string) error {
			o := start(id, reuse)
			o.WorkflowIDConflictPolicy = conflict
			_, err := c.ExecuteWorkflow(ctx, o, "Release")
			return err
		}
	}
	const dup, dupFailed = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
	return []reuseAttack{
		{"release manager's start, ALLOW_DUPLICATE", startWith(rm, dup, 0)},
		{"release manager's start, no policy", startWith(rm, 0, 0)},
		{"release manager's start, ALLOW_DUPLICATE_FAILED_ONLY", startWith(rm, dupFailed, 0)},
		{"admin's start, ALLOW_DUPLICATE + TERMINATE_EXISTING", startWith(admin, dup, enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING)},
		{"admin's signal-with-start, ALLOW_DUPLICATE + TERMINATE_EXISTING", func(ctx context.Context, id string) error {
			o := start(id, dup)
			o.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING
			_, err := admin.SignalWithStartWorkflow(ctx, id, "poke", nil, o, "Release")
			return err
		}},
		{"admin's update-with-start, ALLOW_DUPLICATE + TERMINATE_EXISTING", func(ctx context.Context, id string) error {
			o := start(id, dup)
			o.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second) // no worker accepts the update
			defer cancel()
			_, err := admin.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
				StartWorkflowOperation: admin.NewWithStartWorkflowOperation(o, "Release"),
				UpdateOptions:          client.UpdateWorkflowOptions{UpdateName: "decide", WaitForStage: client.WorkflowUpdateStageAccepted}})
			return err
		}},
	}
}

// attemptReuse makes the attack on target's id: it must fail and leave
// target's run the id's only one, in its state.
func attemptReuse(ctx context.Context, t *testing.T, c client.Client, target client.WorkflowRun, a reuseAttack) bool {
	t.Helper()
	before, err := c.DescribeWorkflowExecution(ctx, target.GetID(), "")
	if err != nil {
		t.Fatal(err)
	}
	err = a.try(ctx, target.GetID())
	after, derr := c.DescribeWorkflowExecution(ctx, target.GetID(), "")
	if derr != nil {
		t.Fatal(derr)
	}
	b, n := before.GetWorkflowExecutionInfo(), after.GetWorkflowExecutionInfo()
	ok := err != nil && n.GetExecution().GetRunId() == target.GetRunID() && n.GetStatus() == b.GetStatus()
	if !ok {
		t.Errorf("%s on %s (%s): error %v; the id's run now %s %s, want %s %s", a.name, target.GetID(), b.GetStatus(), err,
			n.GetExecution().GetRunId(), n.GetStatus(), target.GetRunID(), b.GetStatus())
	}
	return ok
}
