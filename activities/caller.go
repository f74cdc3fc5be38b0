package activities

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/api"
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
	return func(ctx context.Context) (Caller, error) { return serverCaller(ctx, dc) }
}

func serverCaller(ctx context.Context, dc converter.DataConverter) (Caller, error) {
	info := activity.GetInfo(ctx)
	c := Caller{ID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, Type: info.WorkflowType.Name}
	it := activity.GetClient(ctx).GetWorkflowHistory(ctx, c.ID, c.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return c, fmt.Errorf("reading the history of %s: %w", c.ID, err)
		}
		if err := c.take(dc, ev); err != nil {
			return c, fmt.Errorf("history of %s, event %d: %w", c.ID, ev.GetEventId(), err)
		}
	}
	return c, nil
}

// take keeps what the judgement needs of one history event.
func (c *Caller) take(dc converter.DataConverter, ev *historypb.HistoryEvent) error {
	if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
		if p := a.GetInput().GetPayloads(); len(p) > 0 {
			return dc.FromPayload(p[0], &c.Request)
		}
		return errors.New("a release started without a request")
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
