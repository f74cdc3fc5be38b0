package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
	"go.temporal.io/server/common/tasktoken"

	"github.com/foureyes/foureyes/formats/authzconfig"
	"github.com/foureyes/foureyes/temporal-server/internal/devserver"
	"github.com/foureyes/foureyes/temporal-server/internal/figures"
)

// syncBuffer is a log both the server and the test use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// smokeRelease is a Release workflow in miniature: Build on the build
// queue, wait for the "decide" update, Deploy on the deploy queue.
func smokeRelease(ctx workflow.Context) (string, error) {
	decided := false
	if err := workflow.SetUpdateHandler(ctx, "decide", func(ctx workflow.Context, verdict string) (string, error) {
		decided = true
		return "accepted " + verdict, nil
	}); err != nil {
		return "", err
	}
	opts := workflow.ActivityOptions{StartToCloseTimeout: time.Minute, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}}
	var built, deployed string
	opts.TaskQueue = "foureyes-build"
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), "Build").Get(ctx, &built); err != nil {
		return "", err
	}
	if err := workflow.Await(ctx, func() bool { return decided }); err != nil {
		return "", err
	}
	opts.TaskQueue = "foureyes-deploy"
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), "Deploy", built).Get(ctx, &deployed); err != nil {
		return "", err
	}
	return deployed, nil
}

func isDenied(err error) bool {
	var pd *serviceerror.PermissionDenied
	return errors.As(err, &pd)
}

// TestSmoke runs the server in this process with a config from `init` and
// drives it with SDK clients: each role does its part, anonymous and
// misplaced calls get PermissionDenied, history carries the principals.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	dir := t.TempDir()
	if err := initDir(dir, io.Discard); err != nil {
		t.Fatal(err)
	}
	cfg, err := authzconfig.Load(filepath.Join(dir, "temporal-server.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	key := func(identity string) string {
		b, err := os.ReadFile(filepath.Join(dir, "keys", identity+".key"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	port, err := devserver.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	uiPort, err := devserver.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := devserver.ParseDynamicConfig([]string{"matching.numTaskqueueReadPartitions=1", "matching.numTaskqueueWritePartitions=1"})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := devserver.ParseSearchAttributes(devserver.DefaultSearchAttributes)
	if err != nil {
		t.Fatal(err)
	}
	var authzLog syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	s, err := devserver.Start(ctx, devserver.Options{Port: port, UIPort: uiPort, DBFile: filepath.Join(dir, "data", "temporal-server.db"),
		Authz: cfg, AuthzLog: slog.New(slog.NewJSONHandler(&authzLog, nil)),
		Logger:   log.NewZapLogger(log.BuildZapLogger(log.Config{Level: "error", Format: "json"})),
		UIAPIKey: key("operator"), DynamicConfig: dyn, SearchAttributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	t.Logf("server ready in %s at %s (UI %s)", time.Since(began), s.FrontendAddr, s.UIAddr)

	dial := func(identity string) client.Client {
		t.Helper()
		opts := client.Options{HostPort: s.FrontendAddr, Namespace: "default", Identity: identity,
			Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)), ConnectionOptions: client.ConnectionOptions{TLSDisabled: true}}
		if identity != "" {
			opts.Credentials = client.NewAPIKeyStaticCredentials(key(identity))
		}
		c, err := client.DialContext(ctx, opts)
		if err != nil {
			t.Fatalf("dial as %q: %v", identity, err)
		}
		t.Cleanup(c.Close)
		return c
	}
	start := client.StartWorkflowOptions{TaskQueue: "foureyes-orchestrator", WorkflowExecutionTimeout: time.Minute}

	// No credential: the SDK connects (health checks are open) and is denied the rest.
	anon := dial("")
	start.ID = "release-anonymous"
	if _, err := anon.ExecuteWorkflow(ctx, start, "Release"); !isDenied(err) {
		t.Fatalf("start without a credential: %v, want PermissionDenied", err)
	}
	if _, err := anon.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{}); !isDenied(err) {
		t.Errorf("list without a credential: %v", err)
	}
	t.Log("no credential: start and list denied (PermissionDenied)")

	// Workers, each with its own key.
	deployGate := make(chan struct{})
	var buildToken []byte
	run := func(identity, queue string, register func(worker.Worker)) {
		// Activity-only roles must not poll workflow tasks (the SDK does
		// unless told not to): the server denies it.
		w := worker.New(dial(identity), queue, worker.Options{DisableWorkflowWorker: queue != "foureyes-orchestrator"})
		register(w)
		if err := w.Start(); err != nil {
			t.Fatalf("worker %s: %v", identity, err)
		}
		t.Cleanup(w.Stop)
	}
	run("foureyes-orchestrator", "foureyes-orchestrator", func(w worker.Worker) {
		w.RegisterWorkflowWithOptions(smokeRelease, workflow.RegisterOptions{Name: "Release"})
	})
	run("foureyes-build", "foureyes-build", func(w worker.Worker) {
		w.RegisterActivityWithOptions(func(ctx context.Context) (string, error) {
			buildToken = activity.GetInfo(ctx).TaskToken
			return "artifact", nil
		}, activity.RegisterOptions{Name: "Build"})
	})
	run("foureyes-deploy", "foureyes-deploy", func(w worker.Worker) {
		w.RegisterActivityWithOptions(func(ctx context.Context, artifact string) (string, error) {
			select {
			case <-deployGate:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			return "deployed " + artifact, nil
		}, activity.RegisterOptions{Name: "Deploy"})
	})

	// The release manager starts; the build role may not.
	build, rm, approval, operator := dial("foureyes-build"), dial("release-manager"), dial("foureyes-approval"), dial("operator")
	start.ID = "release-by-build"
	if _, err := build.ExecuteWorkflow(ctx, start, "Release"); !isDenied(err) {
		t.Errorf("start by the build role: %v, want PermissionDenied", err)
	}
	start.ID = "release-smoke"
	wr, err := rm.ExecuteWorkflow(ctx, start, "Release")
	if err != nil {
		t.Fatalf("start by the release manager: %v", err)
	}
	t.Log("release manager started release-smoke; build role's start denied")

	// The build role may not poll the deploy queue.
	_, err = build.WorkflowService().PollActivityTaskQueue(ctx, &workflowservice.PollActivityTaskQueueRequest{
		Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: "foureyes-deploy"}, Identity: "foureyes-build"})
	if !isDenied(err) {
		t.Errorf("build polling the deploy queue: %v, want PermissionDenied", err)
	}

	// Updates: only the approval role's "decide".
	upd := client.UpdateWorkflowOptions{WorkflowID: wr.GetID(), UpdateName: "decide", Args: []any{"approve"},
		WaitForStage: client.WorkflowUpdateStageCompleted}
	if _, err := rm.UpdateWorkflow(ctx, upd); !isDenied(err) {
		t.Errorf("decide by the release manager: %v, want PermissionDenied", err)
	}
	h, err := approval.UpdateWorkflow(ctx, upd)
	if err != nil {
		t.Fatalf("decide by the approval role: %v", err)
	}
	var answer string
	if err := h.Get(ctx, &answer); err != nil || answer != "accepted approve" {
		t.Fatalf("decide: %q, %v", answer, err)
	}

	// While Deploy is pending, the build role forges its completion: by
	// activity id, and with its own Build token re-pointed at Deploy's event
	// (still claiming type Build). Both denied: the server's state says Deploy.
	deployEvent, deployID := waitScheduled(ctx, t, operator, wr, "Deploy")
	if err := build.CompleteActivityByID(ctx, "default", wr.GetID(), wr.GetRunID(), deployID, "forged", nil); !isDenied(err) {
		t.Errorf("build completing Deploy by id: %v, want PermissionDenied", err)
	}
	ser := tasktoken.NewSerializer()
	tok, err := ser.Deserialize(buildToken)
	if err != nil {
		t.Fatal(err)
	}
	tok.ScheduledEventId, tok.Attempt = deployEvent, 1
	forged, _ := ser.Serialize(tok)
	if err := build.CompleteActivity(ctx, forged, "forged", nil); !isDenied(err) {
		t.Errorf("build completing Deploy with a forged token: %v, want PermissionDenied", err)
	}
	// The operator reads but may not terminate.
	if err := operator.TerminateWorkflow(ctx, wr.GetID(), "", "no"); !isDenied(err) {
		t.Errorf("terminate by the operator: %v, want PermissionDenied", err)
	}
	if _, err := operator.DescribeWorkflowExecution(ctx, wr.GetID(), ""); err != nil {
		t.Errorf("describe by the operator: %v", err)
	}
	close(deployGate)
	var result string
	if err := wr.Get(ctx, &result); err != nil || result != "deployed artifact" {
		t.Fatalf("release: %q, %v", result, err)
	}
	t.Logf("release-smoke completed: %q", result)

	// History: every event carries the server-attested principal.
	principals := map[string]string{}
	it := operator.GetWorkflowHistory(ctx, wr.GetID(), wr.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if p := e.GetPrincipal(); p != nil {
			principals[e.GetEventType().String()] = p.GetType() + ":" + p.GetName()
		}
	}
	for event, want := range map[string]string{
		"WorkflowExecutionStarted": "apikey:release-manager",
		"ActivityTaskScheduled":    "apikey:foureyes-orchestrator",
		"ActivityTaskCompleted":    "apikey:foureyes-deploy", // the last one: Deploy
		// The update's sender (foureyes-approval) is not recorded: the
		// acceptance is written by the orchestrator's workflow task.
		"WorkflowExecutionUpdateAccepted": "apikey:foureyes-orchestrator",
	} {
		if principals[event] != want {
			t.Errorf("principal of %s: %q, want %q", event, principals[event], want)
		}
	}
	t.Logf("principals in history: %v", principals)

	// The Web UI lists the release as the operator.
	if status, body := uiList(ctx, t, s.UIAddr, "release-smoke"); status != http.StatusOK || !strings.Contains(body, "release-smoke") {
		t.Errorf("UI list: %d %s", status, body)
	}

	tried, denied := s.Authorizer.Counts()
	figures.Report(t, "authz denied %d / tried %d on the real server (a release's calls by each role, misplaced calls denied)", denied, tried)
	logs := authzLog.String()
	for _, want := range []string{`"reason":"no credential"`, `"identity":"foureyes-build","role":"build","api":"/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTaskCompletedById"`,
		`"reason":"activity Deploy on \"foureyes-deploy\" is not build's"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("authz log lacks %s:\n%s", want, logs)
		}
	}
	if testing.Verbose() {
		for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "authz denied" {
				t.Logf("denied: %s %s: %s", m["identity"], m["api"], m["reason"])
			}
		}
	}
}

// waitScheduled waits until activity typ is scheduled and started, and
// returns its scheduled event id and activity id.
func waitScheduled(ctx context.Context, t *testing.T, c client.Client, wr client.WorkflowRun, typ string) (int64, string) {
	t.Helper()
	for {
		var scheduled int64
		var id string
		started := false
		it := c.GetWorkflowHistory(ctx, wr.GetID(), wr.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == typ {
				scheduled, id = e.GetEventId(), a.GetActivityId()
			}
		}
		if d, err := c.DescribeWorkflowExecution(ctx, wr.GetID(), wr.GetRunID()); err == nil {
			for _, pa := range d.GetPendingActivities() {
				started = started || (pa.GetActivityType().GetName() == typ && pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED)
			}
		}
		if scheduled != 0 && started {
			return scheduled, id
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s not started", typ)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
