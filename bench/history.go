package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// nextStart reads a workflow's history for the first activity that match
// accepts and returns its path: when a worker started it (the ActivityTaskStarted
// event's time, which the server sets to the real start even for retried
// activities whose start event is written late).
//
// The started event is written when the activity closes, so a history read
// right after a decision may not hold it yet: look again for up to 30 s.
func nextStart(ctx context.Context, c client.Client, id string,
	match func(*historypb.ActivityTaskScheduledEventAttributes) bool) (path, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, err := readNextStart(ctx, c, id, match)
		if err == nil || !errors.Is(err, errNotStarted) || time.Now().After(deadline) {
			return p, err
		}
		select {
		case <-ctx.Done():
			return path{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var errNotStarted = errors.New("no started activity after the gate in its history")

func readNextStart(ctx context.Context, c client.Client, id string,
	match func(*historypb.ActivityTaskScheduledEventAttributes) bool) (path, error) {
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	var scheduled *historypb.HistoryEvent
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return path{}, err
		}
		events = append(events, ev)
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && scheduled == nil && match(a) {
			scheduled = ev
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && scheduled != nil && a.GetScheduledEventId() == scheduled.GetEventId() {
			return pathOf(events, scheduled, ev), nil
		}
	}
	return path{}, fmt.Errorf("%s: %w", id, errNotStarted)
}

type schedAttrs = historypb.ActivityTaskScheduledEventAttributes
