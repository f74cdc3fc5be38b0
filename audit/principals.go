package audit

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/foureyes/foureyes/formats/authzconfig"
)

// With foureyes' Temporal server, every history event a call caused carries
// the principal the server authenticated (frontend.enablePrincipalPropagation):
// not a name the client chose. CheckPrincipals reads a release's history and
// checks that each such event came from the role that owns it.

// byOrchestrator are the events a workflow task completion writes.
// (A workflow task's scheduled and started events are the server's
// bookkeeping, written on behalf of whichever call led to them: an update
// or an activity completion may carry its sender's principal onto them.)
var byOrchestrator = []enums.EventType{
	enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, enums.EVENT_TYPE_WORKFLOW_TASK_FAILED,
	enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, enums.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
	enums.EVENT_TYPE_TIMER_STARTED, enums.EVENT_TYPE_TIMER_CANCELED, enums.EVENT_TYPE_MARKER_RECORDED,
	enums.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, enums.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
	// An update's acceptance and result are written by the workflow task
	// that handled it: the sender (the approval role, the only one the
	// server lets send decide/cancel) is not recorded.
	enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
	enums.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enums.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
	enums.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
}

// byActivityRole are written by the worker that ran the activity.
var byActivityRole = []enums.EventType{
	enums.EVENT_TYPE_ACTIVITY_TASK_STARTED, enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
	enums.EVENT_TYPE_ACTIVITY_TASK_FAILED, enums.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
}

// byAdminOnly are interventions no foureyes role may make.
var byAdminOnly = []enums.EventType{
	enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, enums.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
	enums.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, enums.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED,
	enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED,
}

// PrincipalReport is what CheckPrincipals found.
type PrincipalReport struct {
	Events   int            `json:"events"`   // events in the history
	Attested int            `json:"attested"` // of which carry a principal
	ByWho    map[string]int `json:"by_who"`   // identity (role) -> events
	Admin    []string       `json:"admin,omitempty"`
	Problems []string       `json:"problems,omitempty"`
}

// OK is true when every attested event came from its owner and nothing an
// identity must have caused is missing its principal.
func (r PrincipalReport) OK() bool { return len(r.Problems) == 0 }

// CheckPrincipals checks events against cfg: the start by the release
// manager (or admin), the workflow's own events by the orchestrator, each
// activity's by the role of the queue it was scheduled on, interventions by
// the admin only (listed).
func CheckPrincipals(events []*historypb.HistoryEvent, cfg *authzconfig.Config) PrincipalReport {
	r := PrincipalReport{Events: len(events), ByWho: map[string]int{}}
	queues := map[int64]string{} // scheduled event id -> task queue
	for _, e := range events {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			queues[e.GetEventId()] = a.GetTaskQueue().GetName()
		}
		want, owned := owner(e, queues, cfg)
		r.check(e, want, owned, cfg)
	}
	if r.Attested == 0 {
		r.Problems = append(r.Problems, "no event carries a principal: the history comes from a server without "+
			"principal propagation (foureyes' server turns it on), so nobody attested who did what")
	}
	return r
}

// owner is the role an event must come from; owned is false for events the
// server writes itself (timers fired, timeouts, tasks scheduled).
func owner(e *historypb.HistoryEvent, queues map[int64]string, cfg *authzconfig.Config) (string, bool) {
	t := e.GetEventType()
	switch {
	case t == enums.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
		return authzconfig.RoleReleaseManager, true
	case slices.Contains(byOrchestrator, t):
		return "orchestrator", true
	case slices.Contains(byAdminOnly, t):
		return authzconfig.RoleAdmin, true
	case slices.Contains(byActivityRole, t):
		role, ok := cfg.QueueRole(queues[scheduledID(e)])
		if !ok {
			return "no role (queue " + queues[scheduledID(e)] + ")", true
		}
		return role, true
	}
	return "", false
}

func scheduledID(e *historypb.HistoryEvent) int64 {
	switch {
	case e.GetActivityTaskStartedEventAttributes() != nil:
		return e.GetActivityTaskStartedEventAttributes().GetScheduledEventId()
	case e.GetActivityTaskCompletedEventAttributes() != nil:
		return e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()
	case e.GetActivityTaskFailedEventAttributes() != nil:
		return e.GetActivityTaskFailedEventAttributes().GetScheduledEventId()
	}
	return e.GetActivityTaskCanceledEventAttributes().GetScheduledEventId()
}

func (r *PrincipalReport) check(e *historypb.HistoryEvent, want string, owned bool, cfg *authzconfig.Config) {
	p := e.GetPrincipal()
	if p.GetName() == "" {
		if owned && e.GetEventType() != enums.EVENT_TYPE_ACTIVITY_TASK_STARTED {
			r.Problems = append(r.Problems, fmt.Sprintf("event %d %s: no principal (want %s)", e.GetEventId(), name(e), want))
		}
		return
	}
	r.Attested++
	role, known := cfg.RoleOf(p.GetName())
	r.ByWho[fmt.Sprintf("%s (%s)", p.GetName(), role)]++
	switch {
	case !known:
		r.Problems = append(r.Problems, fmt.Sprintf("event %d %s: by %s:%s, an identity the server config does not know", e.GetEventId(), name(e), p.GetType(), p.GetName()))
	case role == authzconfig.RoleAdmin:
		r.Admin = append(r.Admin, fmt.Sprintf("event %d %s by %s", e.GetEventId(), name(e), p.GetName()))
	case !owned:
		// Written by the server on behalf of whichever call led to it
		// (a workflow task scheduled after a start or an update).
	case role != want:
		r.Problems = append(r.Problems, fmt.Sprintf("event %d %s: by %s (role %s), want role %s", e.GetEventId(), name(e), p.GetName(), role, want))
	}
}

func name(e *historypb.HistoryEvent) string { return e.GetEventType().String() }

// Summary is "N events attested: who (role) count, …".
func (r PrincipalReport) Summary() string {
	var parts []string
	for who, n := range r.ByWho {
		parts = append(parts, fmt.Sprintf("%s %d", who, n))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%d of %d events attested by the server: %s", r.Attested, r.Events, strings.Join(parts, ", "))
}
