package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestPathOf: the hops of a decision come from the workflow task that
// scheduled the activity, named by the activity's scheduled event.
func TestPathOf(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) *timestamppb.Timestamp {
		return timestamppb.New(t0.Add(time.Duration(ms) * time.Millisecond))
	}
	events := []*historypb.HistoryEvent{
		{EventId: 2, EventTime: at(-50)}, // an earlier workflow task: not this decision's
		{EventId: 5, EventTime: at(1)},
		{EventId: 6, EventTime: at(3)},
		{EventId: 7, EventTime: at(5), Attributes: &historypb.HistoryEvent_WorkflowTaskCompletedEventAttributes{
			WorkflowTaskCompletedEventAttributes: &historypb.WorkflowTaskCompletedEventAttributes{ScheduledEventId: 5, StartedEventId: 6}}},
		{EventId: 8, EventTime: at(5), Attributes: &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{
			ActivityTaskScheduledEventAttributes: &historypb.ActivityTaskScheduledEventAttributes{WorkflowTaskCompletedEventId: 7}}},
		{EventId: 9, EventTime: at(9)},
	}
	p := pathOf(events, events[4], events[5])
	p.sent = t0
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	assert.Equal(t, []time.Duration{ms(1), ms(2), ms(2), 0, ms(4)}, p.hops())
	assert.Equal(t, ms(9), p.actStarted.Sub(p.sent), "the hops add up to the decision's latency")
}
