package audit

import (
	"testing"

	"github.com/stretchr/testify/assert"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"

	"github.com/foureyes/foureyes/formats/authzconfig"
)

func principalConfig() *authzconfig.Config {
	return &authzconfig.Config{Namespace: "default",
		Roles: map[string]authzconfig.RoleRules{"orchestrator": {TaskQueue: "q-orch"}, "build": {TaskQueue: "q-build"}, "deploy": {TaskQueue: "q-deploy"}},
		Identities: []authzconfig.Identity{{Name: "orch", Role: "orchestrator"}, {Name: "builder", Role: "build"},
			{Name: "deployer", Role: "deploy"}, {Name: "rm", Role: "release-manager"}, {Name: "root", Role: "admin"}}}
}

// events is a release's history: started by rm, the orchestrator schedules
// Build (id 3) and Deploy (id 6), each completed by the role of its queue.
func events(completers ...string) []*historypb.HistoryEvent {
	by := func(id int64, t enums.EventType, who string) *historypb.HistoryEvent {
		e := &historypb.HistoryEvent{EventId: id, EventType: t}
		if who != "" {
			e.Principal = &commonpb.Principal{Type: "apikey", Name: who}
		}
		return e
	}
	scheduled := func(id int64, queue string) *historypb.HistoryEvent {
		e := by(id, enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, "orch")
		e.Attributes = &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{ActivityTaskScheduledEventAttributes: &historypb.ActivityTaskScheduledEventAttributes{
			TaskQueue: &taskqueuepb.TaskQueue{Name: queue}}}
		return e
	}
	completed := func(id, sched int64, who string) *historypb.HistoryEvent {
		e := by(id, enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, who)
		e.Attributes = &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{
			ScheduledEventId: sched}}
		return e
	}
	return []*historypb.HistoryEvent{by(1, enums.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, "rm"),
		by(2, enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, "orch"), scheduled(3, "q-build"), completed(4, 3, completers[0]),
		by(5, enums.EVENT_TYPE_TIMER_FIRED, ""), scheduled(6, "q-deploy"), completed(7, 6, completers[1]),
		by(8, enums.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, "orch")}
}

func TestCheckPrincipals(t *testing.T) {
	rep := CheckPrincipals(events("builder", "deployer"), principalConfig())
	assert.True(t, rep.OK(), rep.Problems)
	assert.Equal(t, 7, rep.Attested)
	assert.Equal(t, map[string]int{"rm (release-manager)": 1, "orch (orchestrator)": 4, "builder (build)": 1, "deployer (deploy)": 1}, rep.ByWho)

	// The build role completing the Deploy activity (a stolen token) is named.
	rep = CheckPrincipals(events("builder", "builder"), principalConfig())
	assert.Equal(t, []string{"event 7 ActivityTaskCompleted: by builder (role build), want role deploy"}, rep.Problems)

	// A signal by the release manager; a terminate by the admin is listed, not refused.
	h := events("builder", "deployer")
	h = append(h, &historypb.HistoryEvent{EventId: 9, EventType: enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, Principal: &commonpb.Principal{Name: "rm"}},
		&historypb.HistoryEvent{EventId: 10, EventType: enums.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, Principal: &commonpb.Principal{Name: "root"}},
		&historypb.HistoryEvent{EventId: 11, EventType: enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, Principal: &commonpb.Principal{Name: "mallory"}})
	rep = CheckPrincipals(h, principalConfig())
	assert.Equal(t, []string{"event 9 WorkflowExecutionSignaled: by rm (role release-manager), want role admin",
		"event 11 WorkflowTaskCompleted: by :mallory, an identity the server config does not know"}, rep.Problems)
	assert.Equal(t, []string{"event 10 WorkflowExecutionTerminated by root"}, rep.Admin)
}

func TestCheckPrincipalsWithoutPropagation(t *testing.T) {
	h := events("", "")
	for _, e := range h {
		e.Principal = nil
	}
	rep := CheckPrincipals(h, principalConfig())
	assert.False(t, rep.OK())
	assert.Contains(t, rep.Problems[len(rep.Problems)-1], "no event carries a principal")
	assert.Contains(t, rep.Problems[0], "event 1 WorkflowExecutionStarted: no principal (want release-manager)")
}
