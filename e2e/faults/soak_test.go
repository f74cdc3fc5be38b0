package faults

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/internal/figures"
	"github.com/foureyes/foureyes/internal/procstat"
)

// TestSoak holds FOUREYES_SOAK_RELEASES releases (CI: 30; `make soak`:
// 1,000) through the cluster (PostgreSQL, four Temporal services, mTLS),
// FOUREYES_SOAK_INFLIGHT at once, while a fault hits every few seconds
// (FOUREYES_SOAK_GAP_MIN_MS to _MAX_MS): in turn a role SIGKILLed at a
// random moment, the deploy role SIGKILLed while a deploy command runs,
// and history, matching and PostgreSQL SIGKILLed; each is restarted at
// once. No new release starts after FOUREYES_SOAK_MINUTES.
//
// Then the orchestrator is restarted (every trail is answered by a replay
// of history) and each release is held to its plan: its end, its deploy
// command run exactly once when deployed (never otherwise), every decision
// the gateway answered in the release and in its trail, its trail's chain,
// signatures and seal, and its replayed head equal to its result's. It
// prints `releases N, correct N, duplicate deploys 0, decisions lost 0,
// head mismatches 0` and the resident memory of the server's services and
// the roles after a warm-up and at the end; from FOUREYES_SOAK_RSS_FROM
// releases (default 200) a growth beyond 20 % of the processes that lived
// through both samples fails. Every release that did not end as planned is
// reported with its reason.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, four Temporal services and the roles")
	}
	s := startClusterStack(t, "the soak")
	seed := uint64(knob("FOUREYES_FAULT_SEED", int(time.Now().UnixNano()%1e6)))
	t.Logf("seed %d (FOUREYES_FAULT_SEED=%d reproduces the fault schedule)", seed, seed)
	sk := &soak{f: newFaultRun(s, seed), total: knob("FOUREYES_SOAK_RELEASES", 30), killed: soakRoles()}
	sk.run(t, knob("FOUREYES_SOAK_INFLIGHT", 8), time.Duration(knob("FOUREYES_SOAK_MINUTES", 10))*time.Minute)
	sk.report(t)
}

// soakRoles are the roles the soak kills (FOUREYES_SOAK_KILL_ROLES, comma
// separated; default all but approval). The approval role (the gateway,
// which keeps one envelope per update id) lives through the soak so that
// its memory is measured over the whole run; the cluster fault suite
// kills it.
func soakRoles() []string {
	if v := os.Getenv("FOUREYES_SOAK_KILL_ROLES"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{config.RoleOrchestrator, config.RoleBuild, config.RoleReview, config.RoleDeploy}
}

type soak struct {
	f      *faultRun
	total  int
	killed []string

	mu       sync.Mutex
	inflight map[string]*release
	ended    int
	warm     chan struct{} // closed once the warm-up releases ended
	begin    time.Time
	rssStart []procRSS
	rssAt    int // releases ended when rssStart was taken
}

// run starts the releases, at most inflight at once, until total are
// started or bound has passed, while inject hits the stack; it returns
// once every release started has ended or given up (5 minutes each).
func (sk *soak) run(t *testing.T, inflight int, bound time.Duration) {
	sk.begin = time.Now()
	sk.inflight = map[string]*release{}
	sk.warm = make(chan struct{})
	warmAt := max(5, sk.total/20)
	var once sync.Once
	deadline := time.Now().Add(bound)
	stop := make(chan struct{})
	injected := make(chan struct{})
	go func() { sk.inject(stop); close(injected) }()
	closed := make(chan struct{})
	close(closed) // no hold: the last decision goes as soon as its gate is open
	var wg sync.WaitGroup
	next := 0
	for w := range inflight {
		wg.Go(func() {
			for {
				sk.mu.Lock()
				i := next
				if i >= sk.total || time.Now().After(deadline) {
					sk.mu.Unlock()
					return
				}
				next++
				r := &release{id: fmt.Sprintf("release-svc%02d-prod-%d", i%100, time.Now().UnixNano()), plan: plans[sk.f.intn(len(plans))]}
				sk.inflight[r.id] = r
				sk.mu.Unlock()
				rctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				r.err = sk.f.drive(rctx, r, closed)
				cancel()
				sk.mu.Lock()
				delete(sk.inflight, r.id)
				sk.ended++
				ended := sk.ended
				sk.mu.Unlock()
				sk.f.mu.Lock()
				sk.f.releases = append(sk.f.releases, r)
				sk.f.mu.Unlock()
				if r.err != nil {
					t.Logf("worker %d: %s did not end: %v", w, r.id, r.err)
				}
				if ended >= warmAt {
					once.Do(func() {
						sk.rssStart, sk.rssAt = sk.rss(), ended
						close(sk.warm)
					})
				}
				if ended%50 == 0 {
					fmt.Printf("soak: %d releases ended, %d faults, %s\n", ended, len(sk.f.snapshotFaults()), time.Since(sk.begin).Round(time.Second))
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-injected
	if started := next; started < sk.total {
		t.Errorf("the soak's bound (%s) passed after %d of %d releases started", bound, started, sk.total)
	}
}

// soakFaults are the soak's faults, in turn.
var soakFaults = []string{"role", "history", "mid-deploy", "matching", "postgres"}

// inject hits the stack every few seconds until stop: the next of
// soakFaults each time. A mid-deploy kill waits (up to 30 s) for a deploy
// command of a release in flight to be running.
func (sk *soak) inject(stop <-chan struct{}) {
	f := sk.f
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-stop; cancel() }()
	for i := 0; ctx.Err() == nil; i++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(f.jitter(knob("FOUREYES_SOAK_GAP_MIN_MS", 2000), knob("FOUREYES_SOAK_GAP_MAX_MS", 5000))):
		}
		switch kind := soakFaults[i%len(soakFaults)]; kind {
		case "role":
			if len(sk.killed) > 0 {
				f.kill(sk.killed[f.intn(len(sk.killed))], false)
			}
		case "mid-deploy":
			if slices.Contains(sk.killed, config.RoleDeploy) {
				wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
				f.killMidDeployOf(wctx, sk.running)
				wcancel()
			}
		default:
			f.crash(ctx, kind, 0)
		}
	}
}

// running are the releases in flight.
func (sk *soak) running() []*release {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	var rs []*release
	for _, r := range sk.inflight {
		rs = append(rs, r)
	}
	return rs
}

func (f *faultRun) snapshotFaults() []fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fault(nil), f.faults...)
}

// procRSS is one process's resident memory.
type procRSS struct {
	group, name string // group: server or roles
	pid         int
	mb          float64
}

// rss is the resident memory of the server's services (PostgreSQL aside:
// its memory is its shared buffers and one process per connection) and of
// the roles, now.
func (sk *soak) rss() []procRSS {
	var out []procRSS
	l := sk.f.s.Local
	for _, svc := range []string{"frontend", "history", "matching", "worker"} {
		if p := l.Cluster.Process(svc); p != nil {
			out = append(out, procRSS{"server", svc, p.Pid(), procstat.RSSMB(p.Pid(), "VmRSS")})
		}
	}
	for _, role := range config.Roles {
		if p := sk.f.process(role); p != nil {
			out = append(out, procRSS{"roles", role, p.Pid(), procstat.RSSMB(p.Pid(), "VmRSS")})
		}
	}
	return out
}

// rssFigures compares the two samples: the sums of every process, and of
// the processes that lived through both (same pid), by group; growth is
// measured on the latter (a process restarted in between starts afresh).
func rssFigures(start, end []procRSS) (lines []string, growth map[string]float64) {
	growth = map[string]float64{}
	was := map[string]procRSS{}
	for _, p := range start {
		was[p.name] = p
	}
	for _, group := range []string{"server", "roles"} {
		var all0, all1, live0, live1 float64
		var each, restarted []string
		for _, p := range end {
			if p.group != group {
				continue
			}
			s := was[p.name]
			all0 += s.mb
			all1 += p.mb
			if s.pid == p.pid && s.mb > 0 {
				live0 += s.mb
				live1 += p.mb
				each = append(each, fmt.Sprintf("%s %.0f→%.0f", p.name, s.mb, p.mb))
			} else {
				restarted = append(restarted, fmt.Sprintf("%s %.0f→%.0f", p.name, s.mb, p.mb))
			}
		}
		sort.Strings(each)
		line := fmt.Sprintf("%s RSS %.0f MB → %.0f MB; lived through the soak: %s", group, all0, all1, strings.Join(each, ", "))
		if live0 > 0 {
			growth[group] = live1/live0 - 1
			line += fmt.Sprintf(" (%.0f → %.0f MB, %+.1f %%)", live0, live1, 100*growth[group])
		} else {
			line += "none"
		}
		if len(restarted) > 0 {
			line += "; restarted in between (a fresh process): " + strings.Join(restarted, ", ")
		}
		lines = append(lines, line)
	}
	return lines, growth
}

// report samples memory, restarts the orchestrator (every trail is then a
// replay of history) and holds each release to its plan.
func (sk *soak) report(t *testing.T) {
	f := sk.f
	took := time.Since(sk.begin)
	var rssEnd []procRSS
	select {
	case <-sk.warm:
		rssEnd = sk.rss()
	default:
	}
	if err := f.restartOrchestrator(); err != nil {
		t.Fatalf("restarting the orchestrator: %v", err)
	}
	var tl tally
	for _, r := range f.releases {
		f.check(r, &tl)
	}
	for _, p := range tl.problems {
		figures.Fail(t, "%s", p)
	}
	if len(tl.problems) > 0 { // the evidence behind each reason, before the stack's folder goes
		st := &trailStress{f: f}
		for _, r := range f.releases {
			if r.err != nil || r.res.Status != r.plan.want {
				t.Logf("%s: its activities, as history has them:\n%s", r.id, st.activities(r.id))
				t.Logf("%s: the faults while it ran:\n%s", r.id, f.faultsDuring(r))
			}
		}
		keepLogs(t, f.s.Local.LogDir())
	}
	byKind := map[string]int{}
	for _, flt := range f.faults {
		kind := flt.target
		if flt.midDeploy {
			kind = "mid-deploy"
		} else if slices.Contains(config.Roles, kind) {
			kind = "role"
		}
		byKind[kind]++
		if flt.restartErr != nil {
			figures.Fail(t, "restarting %s after its fault at %s: %v", flt.target, flt.at.Format(time.TimeOnly), flt.restartErr)
		}
	}
	figures.Report(t, "soak: releases %d, correct %d, duplicate deploys %d, decisions lost %d, head mismatches %d (in %s; faults %d: role kills %d, mid-deploy kills %d, SIGKILLs history %d, matching %d, PostgreSQL %d; %d releases lived through a fault)",
		len(f.releases), tl.correct, tl.duplicates, tl.lost, tl.headMismatches, took.Round(time.Second), len(f.faults),
		byKind["role"], byKind["mid-deploy"], byKind["history"], byKind["matching"], byKind["postgres"], f.livedThroughFaults())
	if rssEnd == nil {
		t.Errorf("no memory figures: fewer than the warm-up's releases ended")
		return
	}
	lines, growth := rssFigures(sk.rssStart, rssEnd)
	for _, l := range lines {
		figures.Report(t, "soak memory (after %d releases → after %d): %s", sk.rssAt, len(f.releases), l)
	}
	if len(f.releases) >= knob("FOUREYES_SOAK_RSS_FROM", 200) {
		for group, g := range growth {
			if g > 0.20 {
				t.Errorf("the %s' resident memory grew %.1f %% over the soak (more than 20 %%)", group, 100*g)
			}
		}
	}
}

// activities lists a release's activity events (type, time, attempt,
// identity, failure), the evidence for a stage that failed or timed out.
func (st *trailStress) activities(id string) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	it := st.f.s.Client.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return activityLines(events) + fmt.Sprintf("    history: %v\n", err)
		}
		events = append(events, e)
	}
	return activityLines(events)
}

// activityEvents are the event types activityLines prints. (An EventType's
// String is "ActivityTaskStarted", not its enum name: a prefix test on
// "EVENT_TYPE_ACTIVITY_TASK" matched nothing, and the soak printed an empty
// list.)
var activityEvents = map[enums.EventType]bool{
	enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: true, enums.EVENT_TYPE_ACTIVITY_TASK_STARTED: true,
	enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: true, enums.EVENT_TYPE_ACTIVITY_TASK_FAILED: true,
	enums.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: true, enums.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED: true,
	enums.EVENT_TYPE_ACTIVITY_TASK_CANCELED: true,
}

// activityLines prints one line per activity event of a history; "no
// activity events" when there is none, so that an empty list is never
// mistaken for a report.
func activityLines(events []*historypb.HistoryEvent) string {
	var b strings.Builder
	for _, e := range events {
		if activityEvents[e.GetEventType()] {
			fmt.Fprintf(&b, "    %3d %s %s%s\n", e.GetEventId(), e.GetEventTime().AsTime().UTC().Format(time.RFC3339Nano), e.GetEventType(), eventNote(e))
		}
	}
	if b.Len() == 0 {
		return fmt.Sprintf("    no activity events (of %d events)\n", len(events))
	}
	return b.String()
}

// faultsDuring lists the faults injected while r ran: with its activity
// events they say which kill cost which attempt.
func (f *faultRun) faultsDuring(r *release) string {
	var b strings.Builder
	for _, flt := range f.faults {
		if flt.at.Before(r.start) || (!r.end.IsZero() && flt.at.After(r.end)) {
			continue
		}
		what := flt.target
		if flt.midDeploy {
			what += " (mid-deploy)"
		}
		fmt.Fprintf(&b, "    %s %s killed, down %s\n", flt.at.UTC().Format(time.RFC3339Nano), what, flt.down.Round(time.Millisecond))
	}
	if b.Len() == 0 {
		return "    none\n"
	}
	return b.String()
}
