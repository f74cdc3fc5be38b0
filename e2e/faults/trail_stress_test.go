package faults

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/figures"
)

// TestTrailStress hunts issue 27: a release whose trail, replayed from
// history, ends on another head than its result. Releases flow through the
// cluster without pause (FOUREYES_TRAIL_STRESS_INFLIGHT at once) while
// PostgreSQL and the history service are SIGKILLed in turn, one crash every
// few seconds, so crashes land while releases sit at their gates, pass
// them, deploy and seal. FOUREYES_TRAIL_STRESS_CRASHES crashes (default
// 200), bounded by FOUREYES_TRAIL_STRESS_MINUTES (default 25).
//
// Then the orchestrator is restarted (its cache gone, every trail is
// answered by a replay of history) and each release's replayed head is
// compared with its result's. Each mismatch prints the first entry that
// differs from what the worker computed (its "audit entry" log lines), the
// history events around it (times, workflow task attempts) and the
// worker's lines. Only with FOUREYES_TRAIL_STRESS=1: it takes minutes.
func TestTrailStress(t *testing.T) {
	if testing.Short() || os.Getenv("FOUREYES_TRAIL_STRESS") != "1" {
		t.Skip("FOUREYES_TRAIL_STRESS=1 runs the trail stress on the cluster (minutes)")
	}
	s := startClusterStack(t, "the trail stress")
	seed := uint64(knob("FOUREYES_FAULT_SEED", int(time.Now().UnixNano()%1e6)))
	t.Logf("seed %d (FOUREYES_FAULT_SEED=%d reproduces the schedule)", seed, seed)
	st := &trailStress{f: newFaultRun(s, seed), crashes: knob("FOUREYES_TRAIL_STRESS_CRASHES", 200)}
	st.run(t, knob("FOUREYES_TRAIL_STRESS_INFLIGHT", 6), time.Duration(knob("FOUREYES_TRAIL_STRESS_MINUTES", 25))*time.Minute)
	st.report(t)
}

type trailStress struct {
	f       *faultRun
	crashes int
	done    atomic.Int64 // crashes injected
}

// run keeps inflight releases going until the crashes are done or the time
// is up, crashing PostgreSQL and history in turn at random moments.
func (st *trailStress) run(t *testing.T, inflight int, bound time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	stop := make(chan struct{})
	go func() { st.inject(ctx); close(stop) }()
	var wg sync.WaitGroup
	var mu sync.Mutex
	closed := make(chan struct{})
	close(closed) // no hold: the last decision goes as soon as its gate is open
	n := 0
	for w := range inflight {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				i := n
				n++
				mu.Unlock()
				r := &release{id: fmt.Sprintf("release-svc%02d-prod-%d", i%100, time.Now().UnixNano()), plan: plans[st.f.intn(len(plans))]}
				rctx, rcancel := context.WithTimeout(context.Background(), 4*time.Minute)
				r.err = st.f.drive(rctx, r, closed)
				rcancel()
				st.f.mu.Lock()
				st.f.releases = append(st.f.releases, r)
				st.f.mu.Unlock()
				if r.err != nil {
					t.Logf("worker %d: %s: %v", w, r.id, r.err)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d releases, %d crashes", len(st.f.releases), st.done.Load())
}

// inject crashes PostgreSQL and history in turn until
// st.crashes are done or ctx ends, 1.5 to 4 s apart (FOUREYES_TRAIL_STRESS_GAP_MIN_MS
// and _MAX_MS): the cluster recovers between crashes and releases go on
// reaching their gates and seals; on a loaded machine, space them more.
func (st *trailStress) inject(ctx context.Context) {
	targets := []string{"postgres", "history"}
	if v := os.Getenv("FOUREYES_CLUSTER_TARGETS"); v != "" {
		targets = strings.Split(v, ",")
	}
	for i := 0; i < st.crashes && ctx.Err() == nil; i++ {
		st.f.crash(ctx, targets[i%len(targets)], st.f.jitter(knob("FOUREYES_TRAIL_STRESS_GAP_MIN_MS", 1500), knob("FOUREYES_TRAIL_STRESS_GAP_MAX_MS", 4000)))
		st.done.Add(1)
		if i%20 == 19 {
			fmt.Printf("trail stress: %d crashes, %d releases\n", i+1, len(st.f.snapshot()))
		}
	}
}

func (f *faultRun) snapshot() []*release {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*release(nil), f.releases...)
}

// report restarts the orchestrator (every trail is then a replay of
// history) and compares each release's replayed head with its result's.
func (st *trailStress) report(t *testing.T) {
	f := st.f
	// The first answers, perhaps from the worker's cache, before the restart.
	first := map[string][]audit.Entry{}
	for _, r := range f.releases {
		if r.err == nil {
			first[r.id] = st.trail(r.id)
		}
	}
	if err := f.restartOrchestrator(); err != nil {
		t.Fatalf("restarting the orchestrator: %v", err)
	}
	var tl tally
	mismatches, ended, unanswered := 0, 0, 0
	for _, r := range f.releases {
		f.check(r, &tl) // status, deploys, decisions; the trail as replayed
		if r.err != nil {
			continue
		}
		ended++
		replayed := st.trail(r.id)
		if len(replayed) == 0 { // the query failed: no evidence either way
			unanswered++
			t.Errorf("%s: its trail was not answered after the restart", r.id)
			continue
		}
		if replayed[len(replayed)-1].Hash == r.res.AuditHead {
			continue
		}
		mismatches++
		t.Errorf("head mismatch %s (%s): result head %.12s, replayed %s\n%s", r.id, r.plan.kind, r.res.AuditHead,
			headOf(replayed), st.diagnose(r, first[r.id], replayed))
	}
	for _, p := range tl.problems {
		if !strings.Contains(p, "audit chain does not verify") { // counted above, with the evidence
			figures.Fail(t, "%s", p)
		}
	}
	if mismatches > 0 {
		keepLogs(t, f.s.Local.LogDir())
	}
	for _, flt := range f.faults {
		if flt.restartErr != nil {
			figures.Fail(t, "restarting %s after its crash at %s: %v", flt.target, flt.at.Format(time.TimeOnly), flt.restartErr)
		}
	}
	figures.Report(t, "trail stress: %d crashes (PostgreSQL and history in turn), releases %d, ended %d, correct %d, duplicate deploys %d, head mismatches %d of %d (trails unanswered %d)",
		st.done.Load(), len(f.releases), ended, tl.correct, tl.duplicates, mismatches, ended-unanswered, unanswered)
}

func headOf(entries []audit.Entry) string {
	if len(entries) == 0 {
		return "(no trail)"
	}
	return fmt.Sprintf("%.12s (%d entries)", entries[len(entries)-1].Hash, len(entries))
}

func (st *trailStress) trail(id string) []audit.Entry {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	entries, _ := st.f.s.Trail(ctx, id)
	return entries
}

// diagnose names the first entry where the worker's first execution (its
// log lines) and the replay differ, the history events around that entry's
// workflow task, and the worker's lines.
func (st *trailStress) diagnose(r *release, first, replayed []audit.Entry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  first answer: %s; replayed: %s\n", headOf(first), headOf(replayed))
	seen := st.workerLines(r.id)
	at := -1
	for i, e := range replayed {
		lines := seen[e.Seq]
		if len(lines) > 0 && !strings.Contains(lines[len(lines)-1], "hash="+e.Hash) {
			at = i
			env := sha256.Sum256(e.Envelope)
			fmt.Fprintf(&b, "  first differing entry %d: replayed %s prev=%.12s envelope=%x\n  the worker's lines for it (every execution, in order):\n",
				e.Seq, entryBrief(e), e.Prev, env[:6])
			for _, l := range lines {
				fmt.Fprintf(&b, "    %s\n", l)
			}
			break
		}
	}
	if at < 0 && len(replayed) > 0 {
		fmt.Fprintf(&b, "  no logged entry differs (worker lines %d, replayed entries %d)\n", len(seen), len(replayed))
	}
	b.WriteString(st.historyAround(r.id, replayed, at))
	return b.String()
}

// workerLines are the orchestrator's "audit entry" lines of a release, by
// seq, in the order logged (an entry computed again after an eviction, or
// in a task whose completion was lost, has several).
func (st *trailStress) workerLines(id string) map[int][]string {
	out := map[int][]string{}
	file, err := os.Open(st.f.s.Local.LogDir() + "/orchestrator.log")
	if err != nil {
		return out
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "audit entry") || !strings.Contains(line, id) {
			continue
		}
		var seq int
		if i := strings.Index(line, "seq="); i >= 0 {
			fmt.Sscanf(line[i+4:], "%d", &seq)
		}
		out[seq] = append(out[seq], line)
	}
	return out
}

// historyAround lists the events from the workflow task before the
// differing entry's to the end: type, time, attempt, identity.
func (st *trailStress) historyAround(id string, replayed []audit.Entry, at int) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	it := st.f.s.Client.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return fmt.Sprintf("  history: %v\n", err)
		}
		events = append(events, e)
	}
	from := time.Time{}
	if at > 0 {
		from = replayed[at-1].Time
	} else if len(events) > 12 {
		from = events[len(events)-12].GetEventTime().AsTime()
	}
	var b strings.Builder
	b.WriteString("  history from the entry before:\n")
	for _, e := range events {
		if e.GetEventTime().AsTime().Before(from) {
			continue
		}
		fmt.Fprintf(&b, "    %3d %s %s%s\n", e.GetEventId(), e.GetEventTime().AsTime().UTC().Format(time.RFC3339Nano), e.GetEventType(), eventNote(e))
	}
	return b.String()
}

func eventNote(e *historypb.HistoryEvent) string {
	switch {
	case e.GetWorkflowTaskScheduledEventAttributes() != nil:
		return fmt.Sprintf(" attempt=%d", e.GetWorkflowTaskScheduledEventAttributes().GetAttempt())
	case e.GetWorkflowTaskStartedEventAttributes() != nil:
		a := e.GetWorkflowTaskStartedEventAttributes()
		return fmt.Sprintf(" scheduled=%d request=%s", a.GetScheduledEventId(), a.GetRequestId())
	case e.GetWorkflowTaskTimedOutEventAttributes() != nil:
		return " " + e.GetWorkflowTaskTimedOutEventAttributes().GetTimeoutType().String()
	case e.GetWorkflowTaskFailedEventAttributes() != nil:
		return " " + e.GetWorkflowTaskFailedEventAttributes().GetCause().String()
	case e.GetActivityTaskScheduledEventAttributes() != nil:
		a := e.GetActivityTaskScheduledEventAttributes()
		return fmt.Sprintf(" %s max-attempts=%d heartbeat-timeout=%s", a.GetActivityType().GetName(),
			a.GetRetryPolicy().GetMaximumAttempts(), a.GetHeartbeatTimeout().AsDuration())
	case e.GetActivityTaskStartedEventAttributes() != nil:
		a := e.GetActivityTaskStartedEventAttributes()
		return fmt.Sprintf(" attempt=%d identity=%s last-failure=%q", a.GetAttempt(), a.GetIdentity(), a.GetLastFailure().GetMessage())
	case e.GetActivityTaskTimedOutEventAttributes() != nil:
		a := e.GetActivityTaskTimedOutEventAttributes()
		return fmt.Sprintf(" %s retry=%s", a.GetFailure().GetMessage(), a.GetRetryState())
	case e.GetActivityTaskFailedEventAttributes() != nil:
		a := e.GetActivityTaskFailedEventAttributes()
		return fmt.Sprintf(" %q retry=%s identity=%s", a.GetFailure().GetMessage(), a.GetRetryState(), a.GetIdentity())
	case e.GetWorkflowExecutionUpdateAcceptedEventAttributes() != nil:
		a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes()
		sum := sha256.Sum256([]byte(a.GetAcceptedRequest().GetInput().GetArgs().String()))
		return fmt.Sprintf(" %s request-message=%s args=%x", a.GetProtocolInstanceId(), a.GetAcceptedRequestMessageId(), sum[:6])
	}
	return ""
}

// keepLogs copies the stack's logs out of its folder (removed at the end).
func keepLogs(t *testing.T, dir string) {
	dst, err := os.MkdirTemp("", "trail-stress-logs-")
	if err == nil {
		err = exec.Command("cp", "-r", dir, dst).Run()
	}
	t.Logf("the stack's logs: %s (%v)", dst, err)
}
