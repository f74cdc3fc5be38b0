package faults

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// A failed soak release's report lists its activity events with what
// history knows of each attempt (the soak once printed the heading and
// nothing under it).
func TestActivityLinesListAReleasesActivities(t *testing.T) {
	at := timestamppb.New(time.Date(2026, 12, 7, 21, 21, 1, 0, time.UTC))
	heartbeat := &failurepb.Failure{Message: "activity Heartbeat timeout"}
	events := []*historypb.HistoryEvent{
		{EventId: 72, EventTime: at, EventType: enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED},
		{EventId: 73, EventTime: at, EventType: enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
			Attributes: &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{ActivityTaskScheduledEventAttributes: &historypb.ActivityTaskScheduledEventAttributes{
				ActivityType: &commonpb.ActivityType{Name: "Deploy"}, HeartbeatTimeout: durationpb.New(20 * time.Second),
				RetryPolicy: &commonpb.RetryPolicy{MaximumAttempts: 3}}}},
		{EventId: 74, EventTime: at, EventType: enums.EVENT_TYPE_ACTIVITY_TASK_STARTED,
			Attributes: &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{
				Attempt: 3, Identity: "foureyes-deploy@vm", LastFailure: heartbeat}}},
		{EventId: 75, EventTime: at, EventType: enums.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
			Attributes: &historypb.HistoryEvent_ActivityTaskTimedOutEventAttributes{ActivityTaskTimedOutEventAttributes: &historypb.ActivityTaskTimedOutEventAttributes{
				Failure: heartbeat, RetryState: enums.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED}}},
	}
	out := activityLines(events)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Len(t, lines, 3, "one line per activity event, none for the workflow task:\n%s", out)
	for _, want := range []string{"Deploy max-attempts=3 heartbeat-timeout=20s", "attempt=3",
		"identity=foureyes-deploy@vm", `last-failure="activity Heartbeat timeout"`, "MaximumAttemptsReached"} {
		assert.Contains(t, out, want)
	}
	assert.Contains(t, activityLines(events[:1]), "no activity events (of 1 events)")
}
