package upstream

import (
	"context"
	"fmt"
	"sync"
	"time"

	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"
)

// ApplyWorkflow applies one "apply" update: its handler schedules an
// activity whose id names the update's argument and returns what the
// activity returns. So the argument the handler ran on is visible in
// history (ActivityTaskScheduled's activity id), and a replay that hands
// the handler another argument schedules another activity id: a
// nondeterminism error.
func ApplyWorkflow(ctx workflow.Context) (string, error) {
	applied := ""
	err := workflow.SetUpdateHandler(ctx, "apply", func(ctx workflow.Context, arg string) (string, error) {
		handlerSaw.record(workflow.IsReplaying(ctx), arg)
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			ActivityID:          "apply-" + arg,
			StartToCloseTimeout: time.Minute,
		})
		var out string
		if err := workflow.ExecuteActivity(actx, "Echo", arg).Get(ctx, &out); err != nil {
			return "", err
		}
		applied = out
		return out, nil
	})
	if err != nil {
		return "", err
	}
	if err := workflow.Await(ctx, func() bool { return applied != "" }); err != nil {
		return "", err
	}
	return applied, nil
}

// Echo returns its argument.
func Echo(_ context.Context, arg string) (string, error) { return arg, nil }

// sawArgs records the arguments the update handler ran on, apart for live
// execution and replay (the live worker and the replayer share this process).
type sawArgs struct {
	mu             sync.Mutex
	live, replayed []string
}

var handlerSaw sawArgs

func (s *sawArgs) record(replaying bool, arg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if replaying {
		s.replayed = append(s.replayed, arg)
	} else {
		s.live = append(s.live, arg)
	}
}

func (s *sawArgs) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live, s.replayed = nil, nil
}

func (s *sawArgs) resetReplayed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replayed = nil
}

func (s *sawArgs) snapshot() (live, replayed []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.live...), append([]string(nil), s.replayed...)
}

// completionHold holds the worker's first RespondWorkflowTaskCompleted that
// carries an update acceptance until release is closed: the window in which
// the test restarts the server and sends the retry. It is a gRPC client
// interceptor on the worker's connection, so nothing in the worker or the
// workflow is changed.
type completionHold struct {
	once    sync.Once
	held    chan struct{} // closed when the completion is being held
	release chan struct{} // closed by let

	letOnce sync.Once
	mu      sync.Mutex
	sent    bool
	sentErr error // the server's answer to the held completion
}

// let releases the held completion (once).
func (h *completionHold) let() { h.letOnce.Do(func() { close(h.release) }) }

func (h *completionHold) answer() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.sent {
		return "not sent"
	}
	return fmt.Sprintf("err %v", h.sentErr)
}

func newCompletionHold() *completionHold {
	return &completionHold{held: make(chan struct{}), release: make(chan struct{})}
}

func (h *completionHold) intercept(ctx context.Context, method string, req, reply any,
	cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	r, ok := req.(*workflowservice.RespondWorkflowTaskCompletedRequest)
	if !ok || !carriesAcceptance(r) {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	waited := false
	h.once.Do(func() {
		close(h.held)
		<-h.release
		waited = true
	})
	if !waited {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	// The SDK's own deadline for this call ran while it was held.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	err := invoker(ctx, method, req, reply, cc, opts...)
	h.mu.Lock()
	h.sent, h.sentErr = true, err
	h.mu.Unlock()
	return err
}

func carriesAcceptance(r *workflowservice.RespondWorkflowTaskCompletedRequest) bool {
	for _, m := range r.GetMessages() {
		if m.GetBody().MessageIs(&updatepb.Acceptance{}) {
			return true
		}
	}
	return false
}
