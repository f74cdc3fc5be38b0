package main

import (
	"fmt"
	"time"

	historypb "go.temporal.io/api/history/v1"
)

// The path of one decision, from the history: the workflow task that
// handled it (scheduled, started by the orchestrator, completed with the
// next stage's activity) and that activity's dispatch. Each hop is the gap
// between two of these times; the first starts at the bench's send.
type path struct {
	sent, wtScheduled, wtStarted, wtCompleted, actScheduled, actStarted time.Time
}

// hopNames names the gaps of a path, in order.
var hopNames = []string{
	"decision sent → workflow task scheduled (gateway, Update/signal admitted)",
	"workflow task scheduled → started (matching: to the orchestrator)",
	"workflow task started → completed (the orchestrator's work)",
	"workflow task completed → activity scheduled (same transaction)",
	"activity scheduled → started (transfer queue + matching: to the role)",
}

func (p path) hops() []time.Duration {
	ts := []time.Time{p.sent, p.wtScheduled, p.wtStarted, p.wtCompleted, p.actScheduled, p.actStarted}
	out := make([]time.Duration, len(ts)-1)
	for i := range out {
		out[i] = ts[i+1].Sub(ts[i])
	}
	return out
}

// pathOf finds, in a history, the path to the activity scheduled at event
// sched whose start is started: the workflow task completion that
// scheduled it names the task's scheduled and started events.
func pathOf(events []*historypb.HistoryEvent, sched, started *historypb.HistoryEvent) path {
	byID := map[int64]*historypb.HistoryEvent{}
	for _, e := range events {
		byID[e.GetEventId()] = e
	}
	p := path{actScheduled: sched.GetEventTime().AsTime(), actStarted: started.GetEventTime().AsTime()}
	done := byID[sched.GetActivityTaskScheduledEventAttributes().GetWorkflowTaskCompletedEventId()]
	a := done.GetWorkflowTaskCompletedEventAttributes()
	p.wtCompleted = done.GetEventTime().AsTime()
	p.wtScheduled = byID[a.GetScheduledEventId()].GetEventTime().AsTime()
	p.wtStarted = byID[a.GetStartedEventId()].GetEventTime().AsTime()
	return p
}

// hopRows adds a row per hop, p50 / p99 (ms), foureyes beside the floor;
// prefix names the gate when the rows are one gate's.
func (r *report) hopRows(prefix string, ours, floor []path) {
	for i, name := range hopNames {
		o, f := hopColumn(ours, i), hopColumn(floor, i)
		r.row(fmt.Sprintf("  %shop %d: %s p50 / p99 (ms)", prefix, i+1, name), ms(pct(o, 50))+" / "+ms(pct(o, 99)),
			ms(pct(f, 50))+" / "+ms(pct(f, 99)), ratio(float64(pct(o, 50)), float64(pct(f, 50))), "")
	}
}

func hopColumn(paths []path, i int) []time.Duration {
	var out []time.Duration
	for _, p := range paths {
		if !p.actStarted.IsZero() {
			out = append(out, p.hops()[i])
		}
	}
	return out
}
