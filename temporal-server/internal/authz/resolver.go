package authz

import (
	"context"
	"errors"
	"fmt"
	"sync"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/server/api/adminservice/v1"
)

// ActivityRef is what a pending activity is: its type and task queue.
type ActivityRef struct{ Type, TaskQueue string }

// Resolver finds the pending activity a call names, in the workflow's state.
// A missing workflow or activity is an error the caller gets as it is
// (errNotPending: a NotFound, as the server itself would answer).
type Resolver interface {
	ActivityByEvent(ctx context.Context, namespace, workflowID, runID string, scheduledEventID int64) (ActivityRef, error)
	ActivityByID(ctx context.Context, namespace, workflowID, runID, activityID string) (ActivityRef, error)
}

// MutableStateResolver reads the workflow's mutable state through the admin
// API of the internal frontend (the server's own, trusted, connection).
// What a scheduled event id names never changes within a run, so those
// answers are cached.
type MutableStateResolver struct {
	Admin adminservice.AdminServiceClient

	mu    sync.Mutex
	cache map[eventKey]ActivityRef
}

type eventKey struct {
	namespace, workflowID, runID string
	scheduledEventID             int64
}

const resolverCacheSize = 10000

func (r *MutableStateResolver) ActivityByEvent(ctx context.Context, ns, workflowID, runID string, scheduledEventID int64) (ActivityRef, error) {
	key := eventKey{ns, workflowID, runID, scheduledEventID}
	if runID != "" {
		r.mu.Lock()
		ref, ok := r.cache[key]
		r.mu.Unlock()
		if ok {
			return ref, nil
		}
	}
	infos, err := r.activities(ctx, ns, workflowID, runID)
	if err != nil {
		return ActivityRef{}, err
	}
	ai, ok := infos[scheduledEventID]
	if !ok {
		return ActivityRef{}, errNotPending(fmt.Sprintf("activity (scheduled event %d)", scheduledEventID))
	}
	ref := ActivityRef{Type: ai.Type, TaskQueue: ai.TaskQueue}
	if runID != "" {
		r.mu.Lock()
		if r.cache == nil || len(r.cache) >= resolverCacheSize {
			r.cache = map[eventKey]ActivityRef{}
		}
		r.cache[key] = ref
		r.mu.Unlock()
	}
	return ref, nil
}

func (r *MutableStateResolver) ActivityByID(ctx context.Context, ns, workflowID, runID, activityID string) (ActivityRef, error) {
	infos, err := r.activities(ctx, ns, workflowID, runID)
	if err != nil {
		return ActivityRef{}, err
	}
	for _, ai := range infos {
		if ai.ID == activityID {
			return ActivityRef{Type: ai.Type, TaskQueue: ai.TaskQueue}, nil
		}
	}
	return ActivityRef{}, errNotPending(fmt.Sprintf("activity %q", activityID))
}

type activityInfo struct{ ID, Type, TaskQueue string }

func (r *MutableStateResolver) activities(ctx context.Context, ns, workflowID, runID string) (map[int64]activityInfo, error) {
	resp, err := r.Admin.DescribeMutableState(ctx, &adminservice.DescribeMutableStateRequest{
		Namespace: ns, Execution: &commonpb.WorkflowExecution{WorkflowId: workflowID, RunId: runID},
		SkipForceReload: true,
	})
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil, errNotPending("workflow " + workflowID)
		}
		return nil, serviceerror.NewUnavailablef("authorization could not look up the activity: %v", err)
	}
	ms := resp.GetDatabaseMutableState()
	if ms == nil {
		ms = resp.GetCacheMutableState()
	}
	out := make(map[int64]activityInfo, len(ms.GetActivityInfos()))
	for id, ai := range ms.GetActivityInfos() {
		out[id] = activityInfo{ID: ai.GetActivityId(), Type: ai.GetActivityType().GetName(), TaskQueue: ai.GetTaskQueue()}
	}
	return out, nil
}
