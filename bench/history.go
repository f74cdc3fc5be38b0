package main

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// nextStart reads a workflow's history for the first activity that match
// accepts and returns when a worker started it (the ActivityTaskStarted
// event's time, which the server sets to the real start even for retried
// activities whose start event is written late).
func nextStart(ctx context.Context, c client.Client, id string,
	match func(*historypb.ActivityTaskScheduledEventAttributes) bool) (time.Time, error) {
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	scheduled := int64(-1)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return time.Time{}, err
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && scheduled < 0 && match(a) {
			scheduled = ev.GetEventId()
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && a.GetScheduledEventId() == scheduled {
			return ev.GetEventTime().AsTime(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s: no started activity after the gate in its history", id)
}

type schedAttrs = historypb.ActivityTaskScheduledEventAttributes
