package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"
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

// historySize is what a finished release leaves in the server, averaged
// over ids: events, their encoded bytes, activities and search-attribute
// upserts. It is what the server writes and reads per release, and so
// what bounds throughput beyond the floor.
type historySize struct {
	events, bytes, activities, upserts float64
	byType                             map[string]typeSize // by event type (EVENT_TYPE_ trimmed)
	// byActivity: the payload bytes of each activity type's input (key
	// "Name in", from ActivityTaskScheduled) and result ("Name out", from
	// ActivityTaskCompleted), encoded as stored (encrypted).
	byActivity map[string]typeSize
}

// typeSize is what one event type takes of a release's history.
type typeSize struct{ events, bytes float64 }

// plus adds o weighted by w.
func (h historySize) plus(o historySize, w float64) historySize {
	out := historySize{h.events + w*o.events, h.bytes + w*o.bytes, h.activities + w*o.activities, h.upserts + w*o.upserts,
		addSizes(h.byType, o.byType, w), addSizes(h.byActivity, o.byActivity, w)}
	return out
}

// addSizes is a + w·b, key by key.
func addSizes(a, b map[string]typeSize, w float64) map[string]typeSize {
	out := map[string]typeSize{}
	for _, m := range []struct {
		by map[string]typeSize
		w  float64
	}{{a, 1}, {b, w}} {
		for k, v := range m.by {
			t := out[k]
			out[k] = typeSize{t.events + m.w*v.events, t.bytes + m.w*v.bytes}
		}
	}
	return out
}

// addPayloads counts an activity's input or result under key.
func (h *historySize) addPayloads(key string, p *commonpb.Payloads) {
	size := float64(proto.Size(p))
	h.byActivity[key] = typeSize{h.byActivity[key].events + 1, h.byActivity[key].bytes + size}
}

func measureHistories(ctx context.Context, c client.Client, ids []string) (historySize, error) {
	sum := historySize{byType: map[string]typeSize{}, byActivity: map[string]typeSize{}}
	for _, id := range ids {
		names := map[int64]string{} // scheduled event id → activity type
		it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return sum, fmt.Errorf("history of %s: %w", id, err)
			}
			size := float64(proto.Size(ev))
			sum.events++
			sum.bytes += size
			t := strings.TrimPrefix(ev.GetEventType().String(), "EVENT_TYPE_")
			sum.byType[t] = typeSize{sum.byType[t].events + 1, sum.byType[t].bytes + size}
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				sum.activities++
				a := ev.GetActivityTaskScheduledEventAttributes()
				names[ev.GetEventId()] = a.GetActivityType().GetName()
				sum.addPayloads(a.GetActivityType().GetName()+" in", a.GetInput())
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
				a := ev.GetActivityTaskCompletedEventAttributes()
				sum.addPayloads(names[a.GetScheduledEventId()]+" out", a.GetResult())
			case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
				sum.upserts++
			}
		}
	}
	return historySize{}.plus(sum, 1/float64(max(1, len(ids)))), nil
}

// historyRows compares what a release of each system leaves in history.
func (r *report) historyRows(ours, floor historySize) {
	f := func(v float64) string { return fmt.Sprintf("%.0f", v) }
	r.row("history per finished release: events", f(ours.events), f(floor.events), ratio(ours.events, floor.events), "")
	r.row("history per finished release: encoded KB", fmt.Sprintf("%.1f", ours.bytes/1024),
		fmt.Sprintf("%.1f", floor.bytes/1024), ratio(ours.bytes, floor.bytes), "")
	r.row("history per finished release: activities / search-attribute upserts",
		f(ours.activities)+" / "+f(ours.upserts), f(floor.activities)+" / "+f(floor.upserts), "", "")
	r.note("history bytes per event type per finished release, foureyes: %s", ours.typeLine())
	r.note("history bytes per event type per finished release, floor: %s", floor.typeLine())
	r.note("activity payload bytes per finished release (in: input, out: result; n: activities), foureyes: %s",
		sizeLine(ours.byActivity))
	r.note("activity payload bytes per finished release, floor: %s", sizeLine(floor.byActivity))
}

// typeLine lists the event types by bytes, largest first: "TYPE n events b B"
// (b: all n together).
func (h historySize) typeLine() string { return sizeLine(h.byType) }

// sizeLine lists by's keys by bytes, largest first: "KEY n events b B".
func sizeLine(by map[string]typeSize) string {
	types := make([]string, 0, len(by))
	for t := range by {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool {
		a, b := by[types[i]], by[types[j]]
		return a.bytes > b.bytes || (a.bytes == b.bytes && types[i] < types[j])
	})
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%s %.0f events %.0f B", t, by[t].events, by[t].bytes)
	}
	return strings.Join(parts, ", ")
}
