package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/judge"
)

// Caller is the workflow run that scheduled an activity, as the server
// knows it: its id, run and type (from the task the server handed out),
// what the release manager started it with and every decide and cancel
// Update it took, in order, from its history. None of it comes from the
// activity's input, which the caller chose.
type Caller struct {
	ID, RunID, Type string
	Request         api.ReleaseRequest
	Requests        []judge.Request
	// Provenance and Review are the build role's signed provenance and the
	// review role's signed verdict as their activities completed in the
	// run's history (the last completion of each); a promotion's
	// provenance is the promoted release's, from its start request.
	Provenance, Review attest.Envelope

	scheduled map[int64]string // Build and Review tasks by scheduled event id
}

// CallerReader reads the calling run; the deploy role's default reads the
// server (ServerCaller), tests give their own.
type CallerReader func(ctx context.Context) (Caller, error)

// InfoCaller is the calling run as the server's activity task names it,
// without its history.
func InfoCaller(ctx context.Context) (Caller, error) {
	info := activity.GetInfo(ctx)
	return Caller{ID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, Type: info.WorkflowType.Name}, nil
}

// ServerCaller reads the calling run's history from the server with the
// role's own client, its payloads in plaintext.
func ServerCaller(ctx context.Context) (Caller, error) {
	return ServerCallerWith(converter.GetDefaultDataConverter())(ctx)
}

// ServerCallerWith reads the calling run's history like ServerCaller,
// decoding its payloads with dc: the role's client's converter, which
// decrypts them (history events reach a client as the server keeps them).
func ServerCallerWith(dc converter.DataConverter) CallerReader {
	return serverCallerFrom(dc, serverHistory)
}

// historyOf opens a run's history (the role's client; tests give their own).
type historyOf func(ctx context.Context, id, runID string) client.HistoryEventIterator

// serverHistory opens a run's history with the role's own client.
func serverHistory(ctx context.Context, id, runID string) client.HistoryEventIterator {
	return activity.GetClient(ctx).GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
}

// eachCallerEvent hands each event of the calling run's history (the run
// the server's activity task names, never the input's word) to fn, until fn
// says done. A failed read is CallerUnavailable unless retrying cannot help.
func eachCallerEvent(ctx context.Context, open historyOf, fn func(*historypb.HistoryEvent) (done bool, err error)) error {
	run := activity.GetInfo(ctx).WorkflowExecution
	it := open(ctx, run.ID, run.RunID)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return unavailable(fmt.Errorf("reading the history of %s: %w", run.ID, err))
		}
		if done, err := fn(ev); done || err != nil {
			return err
		}
	}
	return nil
}

func serverCallerFrom(dc converter.DataConverter, open historyOf) CallerReader {
	return func(ctx context.Context) (Caller, error) { return serverCaller(ctx, dc, open) }
}

func serverCaller(ctx context.Context, dc converter.DataConverter, open historyOf) (Caller, error) {
	info := activity.GetInfo(ctx)
	c := Caller{ID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, Type: info.WorkflowType.Name}
	err := eachCallerEvent(ctx, open, func(ev *historypb.HistoryEvent) (bool, error) {
		if err := c.take(dc, ev); err != nil {
			return true, fmt.Errorf("history of %s, event %d: %w", c.ID, ev.GetEventId(), err)
		}
		return false, nil
	})
	return c, err
}

// CallerUnavailable is a failure to read the calling run that says
// nothing about the run: the server or its database did not answer (down,
// restarting, a timeout, a namespace not yet reloaded after a PostgreSQL
// restart). It is no refusal: the read is tried again, and the activity
// is retried, never refused, for it. A CallerReader wraps such failures
// in it (Unavailable); anything else it returns is a refusal.
type CallerUnavailable struct{ Err error }

func (e *CallerUnavailable) Error() string {
	return e.Err.Error() + " (the server did not answer; not a refusal)"
}
func (e *CallerUnavailable) Unwrap() error { return e.Err }

// unavailable wraps a failed history read in CallerUnavailable unless the
// server's answer is one a retry cannot change: the role may not read the
// run (PermissionDenied) or asked wrongly (InvalidArgument, Unimplemented).
func unavailable(err error) error {
	var denied *serviceerror.PermissionDenied
	var invalid *serviceerror.InvalidArgument
	var unimplemented *serviceerror.Unimplemented
	if errors.As(err, &denied) || errors.As(err, &invalid) || errors.As(err, &unimplemented) {
		return err
	}
	return &CallerUnavailable{Err: err}
}

// callerPatience is how long one attempt goes on reading a caller that is
// unavailable (then it fails, retryable) and callerBackoff the first wait
// between reads; variables so tests can shorten them.
var callerPatience, callerBackoff = 90 * time.Second, 500 * time.Millisecond

// readCaller reads the calling run, trying again (heartbeating) while the
// server does not answer, for up to callerPatience.
func readCaller(ctx context.Context, read CallerReader) (Caller, error) {
	stop := startHeartbeat(ctx)
	defer stop()
	deadline, wait := time.Now().Add(callerPatience), callerBackoff
	for {
		c, err := read(ctx)
		var u *CallerUnavailable
		if err == nil || !errors.As(err, &u) || time.Now().Add(wait).After(deadline) {
			return c, err
		}
		if activity.IsActivity(ctx) {
			activity.GetLogger(ctx).Warn("reading the calling run: trying again", "error", err.Error(), "in", wait)
		}
		select {
		case <-ctx.Done():
			return c, &CallerUnavailable{Err: fmt.Errorf("%w (then: %w)", err, ctx.Err())}
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// deployAnswer is err as the deploy role's answer to an activity: a refusal
// (non-retryable, DeployRefused, prefixed by what was refused), or, when
// the calling run could not be read, a retryable CallerUnavailable.
func deployAnswer(what string, err error) error {
	var u *CallerUnavailable
	if errors.As(err, &u) {
		return temporal.NewApplicationError(what+" not judged yet: "+err.Error(), api.ErrTypeCallerUnavailable)
	}
	return temporal.NewNonRetryableApplicationError(what+" refused: "+err.Error(), api.ErrTypeDeployRefused, nil)
}

// take keeps what the judgement needs of one history event.
func (c *Caller) take(dc converter.DataConverter, ev *historypb.HistoryEvent) error {
	if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
		if p := a.GetInput().GetPayloads(); len(p) > 0 {
			err := dc.FromPayload(p[0], &c.Request)
			if c.Request.Promotes != nil {
				c.Provenance = c.Request.Promotes.Provenance
			}
			return err
		}
		return errors.New("a release started without a request")
	}
	if done, err := c.takeStage(dc, ev); done || err != nil {
		return err
	}
	u := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput()
	if name := u.GetName(); name == api.UpdateDecide || name == api.UpdateCancel {
		var req api.SignedRequest
		if p := u.GetArgs().GetPayloads(); len(p) > 0 {
			if err := dc.FromPayload(p[0], &req); err != nil {
				return err
			}
		}
		c.Requests = append(c.Requests, judge.Request{Kind: name, Envelope: req.Envelope})
	}
	return nil
}

// takeStage keeps the signed statement of a completed Build or Review.
func (c *Caller) takeStage(dc converter.DataConverter, ev *historypb.HistoryEvent) (bool, error) {
	if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
		if n := a.GetActivityType().GetName(); n == api.ActivityBuild || n == api.ActivityReview {
			if c.scheduled == nil {
				c.scheduled = map[int64]string{}
			}
			c.scheduled[ev.GetEventId()] = n
		}
		return true, nil
	}
	a := ev.GetActivityTaskCompletedEventAttributes()
	if a == nil {
		return false, nil
	}
	p := a.GetResult().GetPayloads()
	if len(p) == 0 {
		return true, nil
	}
	switch c.scheduled[a.GetScheduledEventId()] {
	case api.ActivityBuild:
		var res api.BuildResult
		err := dc.FromPayload(p[0], &res)
		c.Provenance = res.Provenance
		return true, err
	case api.ActivityReview:
		var res api.ReviewResult
		err := dc.FromPayload(p[0], &res)
		c.Review = res.Attestation
		return true, err
	}
	return true, nil
}

// release is the run as the judge knows it, once it is established that
// the run is the release the input names: the release's own request says
// its service and environment, the input only its commit and digest.
func (c Caller) release(in api.DeployInput) (judge.Release, error) {
	rel := judge.Release{ID: c.ID, RunID: c.RunID, Service: c.Request.Service, Environment: c.Request.Environment,
		Commit: in.Commit, Digest: in.Digest, PolicyHash: in.PolicyHash}
	if c.Request.Promotes != nil {
		rel.Promotes = c.Request.Promotes.Release
	}
	switch {
	case c.Type != api.WorkflowRelease:
		return rel, fmt.Errorf("called by a %q workflow (%s), not a release", c.Type, c.ID)
	case c.ID != in.ReleaseID:
		return rel, fmt.Errorf("called by release %s, not %s: a release deploys only itself", c.ID, in.ReleaseID)
	case rel.Service != in.Service || rel.Environment != in.Environment:
		return rel, fmt.Errorf("release %s was started for %s in %s, not %s in %s", c.ID, rel.Service, rel.Environment, in.Service, in.Environment)
	case rel.Promotes != in.Promotes:
		return rel, fmt.Errorf("release %s was started promoting %q, not %q", c.ID, rel.Promotes, in.Promotes)
	}
	return rel, nil
}
