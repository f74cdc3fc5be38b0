// Package upstream keeps minimal reproductions of Temporal server behaviour
// foureyes found, written against the plain server (the Temporal CLI's dev
// server) and the Go SDK only, to be reported upstream. See README.md.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"google.golang.org/grpc"
)

const (
	taskQueue = "upstream-update-retry"
	updateID  = "apply-1"
)

// reproduced is set once a run reached its verdict and it was the bug.
var reproduced bool

type updateResult struct {
	out string
	err error
}

// TestUpdateRetryAfterRegistryResetKeepsAcceptedRequest: the worker accepts
// update "apply-1" carrying "A"; before its workflow task completion reaches
// the server, the server is restarted (its update registry is cleared) and a
// client sends update "apply-1" again carrying "B". Expected: history's
// UpdateAccepted event holds the request the worker accepted and the handler
// ran on ("A"), so a replay of the history does what the live worker did.
// On the Temporal CLI's dev server (server 1.29.1) and on v1.32.0 it holds
// "B"; the test then fails with "REPRODUCED". Skipped unless
// FOUREYES_UPSTREAM_REPRO=1. README.md is the bug report and its figures.
func TestUpdateRetryAfterRegistryResetKeepsAcceptedRequest(t *testing.T) {
	runUpdateRetry(t, true)
}

// TestUpdateRetryWithoutRegistryResetKeepsAcceptedRequest is the control:
// the same sequence without the restart. The retry carrying "B" finds the
// update in the registry and is deduplicated; history holds "A" (passes;
// 3 of 101 runs held "B" all the same: see README.md).
func TestUpdateRetryWithoutRegistryResetKeepsAcceptedRequest(t *testing.T) {
	runUpdateRetry(t, false)
}

func runUpdateRetry(t *testing.T, restart bool) {
	if os.Getenv("FOUREYES_UPSTREAM_REPRO") != "1" {
		t.Skip("an upstream reproduction (restarts a dev server); FOUREYES_UPSTREAM_REPRO=1 runs it")
	}
	handlerSaw.reset()
	reproduced = false
	srv := newDevServer(t)
	srv.start(t)
	c := mustDial(t, srv, nil)
	wfID := fmt.Sprintf("update-retry-%d", time.Now().UnixNano())
	startWorkflow(t, c, wfID)

	// 1. Update "A" is admitted while the first (normal, persisted) workflow
	// task is scheduled, so it rides that task rather than a speculative one.
	ctxA, cancelA := context.WithCancel(context.Background())
	resA := sendUpdate(ctxA, c, wfID, "A", client.WorkflowUpdateStageAccepted)
	waitAdmitted(t, c, wfID)

	// 2. The worker takes the task, runs the handler on "A" and accepts it;
	// its RespondWorkflowTaskCompleted is held on the way out. (On a loaded
	// machine the task has been seen started without reaching the worker;
	// its timeout, 2 min, then sends it again: hence 3 min.)
	hold := newCompletionHold()
	workerLog := startWorker(t, srv, hold)
	t.Cleanup(func() { diagnose(t, srv, c, wfID, hold, workerLog) })
	t.Cleanup(hold.let) // a run that stops early must not leave the worker blocked
	waitOrFatal(t, hold.held, 3*time.Minute, "the worker's completion with the acceptance")
	cancelA() // the first caller gives up, so the SDK does not retry "A"
	t.Logf("first call (A) ended: %v", (<-resA).err)

	// 3. History restart: the registry starts empty; the workflow task is
	// still started in mutable state. The retry with "B" is admitted anew.
	if restart {
		srv.kill()
		srv.start(t)
	}
	ctxB, cancelB := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelB()
	resB := sendUpdate(ctxB, c, wfID, "B", client.WorkflowUpdateStageCompleted)
	waitAdmitted(t, c, wfID)

	// 4. The held completion (acceptance of the "A" delivery) goes through.
	hold.let()
	report(t, srv, c, wfID, resB)
}

func report(t *testing.T, srv *devServer, c client.Client, wfID string, resB <-chan updateResult) {
	hist := settledHistory(t, c, wfID)
	live, _ := handlerSaw.snapshot()
	handlerSaw.resetReplayed() // the live worker may have replayed too; count only ours
	accepted, activityID := acceptedArg(t, hist), scheduledActivityID(hist)
	replayErr := replay(hist)
	_, replayed := handlerSaw.snapshot()
	logEvents(t, hist)
	t.Logf("live handler ran on %v; history UpdateAccepted request %q; ActivityTaskScheduled %q", live, accepted, activityID)
	t.Logf("update call carrying B: %s; workflow: %s", answer(resB), closeOf(hist))
	t.Logf("replay: handler ran on %v; error: %v", replayed, replayErr)
	if len(live) != 1 || live[0] != "A" {
		t.Fatalf("setup: sequence not reached: the live handler ran on %v, want [A]", live)
	}
	if accepted != live[0] || replayErr != nil {
		reproduced = true
		t.Logf("server's log lines on this workflow:\n%s", srv.logLines(wfID))
		t.Errorf("REPRODUCED: the handler ran on %q but history's UpdateAccepted holds %q; replay: %v",
			live[0], accepted, replayErr)
	} else {
		t.Logf("NOT REPRODUCED: history's UpdateAccepted holds %q, what the handler ran on", accepted)
	}
}

// settledHistory waits until the workflow completed or one of its workflow
// tasks failed (the live worker replayed the history and met the
// nondeterminism itself: the workflow is then stuck), and returns history.
// After 2 min it returns history as it is if the acceptance and its
// activity are in it (all the verdict needs); else the run failed to set up.
func settledHistory(t *testing.T, c client.Client, wfID string) *historypb.History {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		h := history(t, c, wfID)
		if closeOf(h) != "running" {
			return h
		}
		if time.Now().After(deadline) {
			if scheduledActivityID(h) == "" {
				t.Fatalf("setup: no activity scheduled after the acceptance in 2 min")
			}
			t.Logf("the workflow did not complete in 2 min; judging history as it is")
			return h
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// closeOf says how the workflow stands: its result, a failed workflow task, or running.
func closeOf(h *historypb.History) string {
	for _, e := range h.Events {
		if a := e.GetWorkflowExecutionCompletedEventAttributes(); a != nil {
			return "completed with " + payloadText(a.GetResult().GetPayloads())
		}
		if a := e.GetWorkflowTaskFailedEventAttributes(); a != nil {
			return fmt.Sprintf("stuck: workflow task %d failed (%s): %s", e.GetEventId(), a.GetCause(), a.GetFailure().GetMessage())
		}
	}
	return "running"
}

func answer(res <-chan updateResult) string {
	select {
	case r := <-res:
		return fmt.Sprintf("returned %q (err %v)", r.out, r.err)
	case <-time.After(5 * time.Second):
		return "no answer in 5 s"
	}
}

func mustDial(t *testing.T, srv *devServer, opts *client.ConnectionOptions) client.Client {
	c, err := srv.dial(opts)
	if err != nil {
		t.Fatalf("setup: dial %s: %v", srv, err)
	}
	t.Cleanup(c.Close)
	return c
}

func startWorkflow(t *testing.T, c client.Client, wfID string) {
	_, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: wfID, TaskQueue: taskQueue,
		// Long enough for the held completion to outlive a server restart.
		WorkflowTaskTimeout: 2 * time.Minute,
	}, ApplyWorkflow)
	if err != nil {
		t.Fatalf("setup: start workflow: %v", err)
	}
}

func startWorker(t *testing.T, srv *devServer, hold *completionHold) *keptLogger {
	logger := &keptLogger{}
	wc, err := srv.dialLogging(&client.ConnectionOptions{
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(hold.intercept)},
	}, logger)
	if err != nil {
		t.Fatalf("setup: dial %s: %v", srv, err)
	}
	t.Cleanup(wc.Close)
	w := worker.New(wc, taskQueue, worker.Options{})
	w.RegisterWorkflow(ApplyWorkflow)
	w.RegisterActivity(Echo)
	if err := w.Start(); err != nil {
		t.Fatalf("setup: worker: %v", err)
	}
	t.Cleanup(w.Stop)
	return logger
}

// diagnose prints, when the test failed before its verdict, what happened:
// the held completion's answer, history, the worker's warnings, the server's log.
func diagnose(t *testing.T, srv *devServer, c client.Client, wfID string, hold *completionHold, workerLog *keptLogger) {
	if !t.Failed() || reproduced {
		return
	}
	t.Logf("diagnosis: held completion answered: %v", hold.answer())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	it := c.GetWorkflowHistory(ctx, wfID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Logf("diagnosis: history: %v", err)
			break
		}
		h.Events = append(h.Events, e)
	}
	logEvents(t, h)
	t.Logf("diagnosis: worker warnings:\n  %s", workerLog)
	t.Logf("diagnosis: server log (end):\n%s", srv.logTail())
}

func sendUpdate(ctx context.Context, c client.Client, wfID, arg string, stage client.WorkflowUpdateStage) <-chan updateResult {
	res := make(chan updateResult, 1)
	go func() {
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			UpdateID: updateID, WorkflowID: wfID, UpdateName: "apply", Args: []any{arg}, WaitForStage: stage,
		})
		var out string
		if err == nil && stage == client.WorkflowUpdateStageCompleted {
			err = h.Get(ctx, &out)
		}
		res <- updateResult{out, err}
	}()
	return res
}

// waitAdmitted polls until the server's registry holds the update (a poll
// for stage ADMITTED answers NotFound until then).
func waitAdmitted(t *testing.T, c client.Client, wfID string) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := c.WorkflowService().PollWorkflowExecutionUpdate(ctx, &workflowservice.PollWorkflowExecutionUpdateRequest{
			Namespace: "default",
			UpdateRef: &updatepb.UpdateRef{
				WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: wfID},
				UpdateId:          updateID,
			},
			WaitPolicy: &updatepb.WaitPolicy{LifecycleStage: enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED},
		})
		cancel()
		if err == nil {
			return
		}
		var nf *serviceerror.NotFound
		if !errors.As(err, &nf) && !isUnavailable(err) {
			t.Fatalf("setup: poll update: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("setup: update %s not admitted in 60 s", updateID)
}

func isUnavailable(err error) bool {
	var u *serviceerror.Unavailable
	var d *serviceerror.DeadlineExceeded
	return errors.As(err, &u) || errors.As(err, &d) || errors.Is(err, context.DeadlineExceeded)
}

func waitOrFatal(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("setup: %s did not come in %v", what, d)
	}
}

func history(t *testing.T, c client.Client, wfID string) *historypb.History {
	it := c.GetWorkflowHistory(context.Background(), wfID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("setup: history: %v", err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}

// acceptedArg is the argument in the UpdateAccepted event's request.
func acceptedArg(t *testing.T, h *historypb.History) string {
	for _, e := range h.Events {
		if a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil {
			var arg string
			if err := converter.GetDefaultDataConverter().FromPayloads(a.GetAcceptedRequest().GetInput().GetArgs(), &arg); err != nil {
				t.Fatalf("setup: UpdateAccepted request: %v", err)
			}
			return arg
		}
	}
	t.Fatalf("setup: no UpdateAccepted event in history")
	return ""
}

func scheduledActivityID(h *historypb.History) string {
	var ids []string
	for _, e := range h.Events {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			ids = append(ids, a.GetActivityId())
		}
	}
	return strings.Join(ids, ",")
}

func replay(h *historypb.History) error {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflow(ApplyWorkflow)
	return r.ReplayWorkflowHistory(quietLogger{}, h)
}

// logEvents prints history's events, the update's with the argument of its
// request or outcome.
func logEvents(t *testing.T, h *historypb.History) {
	var b strings.Builder
	for _, e := range h.Events {
		fmt.Fprintf(&b, "\n  %2d %s", e.GetEventId(), e.GetEventType())
		if a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil {
			fmt.Fprintf(&b, " request %s", payloadText(a.GetAcceptedRequest().GetInput().GetArgs().GetPayloads()))
		}
		if a := e.GetWorkflowExecutionUpdateCompletedEventAttributes(); a != nil {
			fmt.Fprintf(&b, " outcome %s", payloadText(a.GetOutcome().GetSuccess().GetPayloads()))
		}
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			fmt.Fprintf(&b, " activity id %s", a.GetActivityId())
		}
	}
	t.Logf("history:%s", b.String())
}

func payloadText(ps []*commonpb.Payload) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, string(p.GetData()))
	}
	return strings.Join(parts, ",")
}
