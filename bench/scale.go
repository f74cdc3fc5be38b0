package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/procstat"
)

// stallAfter ends the wait for open releases when no new one reached the
// gate for this long.
const stallAfter = 2 * time.Minute

// runScale holds cfg.open releases at the review gate at once, decides a
// few random ones while all are open, then cancels them all as rita.
func runScale(ctx context.Context, r *rig, rep *report, log io.Writer) error {
	sys, n := newFoureyes(r), r.cfg.open
	base := r.prompts.promptCount("review")
	st := startTolerant(ctx, sys, n, r.cfg.startConc, log)
	rep.row(fmt.Sprintf("scale: releases started (of %d asked), start rate", n),
		fmt.Sprintf("%d, %.0f/s (%d errors)", len(st.ids), float64(len(st.ids))/st.took.Seconds(), st.errs), "", "", "")
	if st.first != nil {
		rep.note("scale: first start error: %v", st.first)
	}
	open, took := waitOpen(ctx, r, base, len(st.ids), log)
	rep.row("scale: releases open at the review gate at once, time until all open", fmt.Sprintf("%d, %s", open, took.Round(time.Second)), "", "", "≥ 10,000")
	profileHeap(ctx, r.cfg, "scale")
	orch := r.Local.Roles["orchestrator"].Pid()
	peak := procstat.RSSMB(orch, "VmHWM")
	rep.row("scale: orchestrator peak RSS (VmHWM, MB)", fmt.Sprintf("%.0f", peak), "", "", "< 300 MB")
	rep.goal(fmt.Sprintf("orchestrator memory with %d releases open", open), "10,000 open, peak RSS < 300 MB",
		fmt.Sprintf("%d open, %.0f MB", open, peak), open >= 10000 && peak < 300)
	rep.note("scale: Temporal server peak RSS %.0f MB (all its processes); approval role %.0f MB", r.serverPeakMB(),
		procstat.RSSMB(r.Local.Roles["approval"].Pid(), "VmHWM"))
	if err := scaleDecisions(ctx, r, sys, st.ids, rep); err != nil {
		return err
	}
	return cancelAll(ctx, r, st.ids, rep, log, "scale")
}

type started struct {
	ids   []string
	took  time.Duration
	errs  int
	first error
}

// startTolerant starts n releases conc at a time, counting failures
// instead of stopping at the first.
func startTolerant(ctx context.Context, sys system, n, conc int, log io.Writer) started {
	var errs atomic.Int64
	var first atomic.Pointer[error]
	ok := make([]bool, n)
	ids, idx := make([]string, n), make([]int, n)
	for i := range ids {
		ids[i], idx[i] = newReleaseID(), i
	}
	t0 := time.Now()
	_ = forEach(ctx, idx, conc, func(ctx context.Context, i int) error {
		err := sys.start(ctx, ids[i])
		if ok[i] = err == nil; !ok[i] {
			errs.Add(1)
			first.CompareAndSwap(nil, &err)
		}
		return nil
	})
	st := started{took: time.Since(t0), errs: int(errs.Load())}
	if p := first.Load(); p != nil {
		st.first = *p
	}
	st.ids = kept(ids, ok)
	fmt.Fprintf(log, "bench: scale: started %d of %d in %s\n", len(st.ids), n, st.took.Round(time.Millisecond))
	return st
}

// kept are the ids whose ok is true.
func kept(ids []string, ok []bool) []string {
	var out []string
	for i, id := range ids {
		if ok[i] {
			out = append(out, id)
		}
	}
	return out
}

// waitOpen waits until want releases past base were prompted for review,
// or progress stalls, and returns how many were and how long it took.
func waitOpen(ctx context.Context, r *rig, base, want int, log io.Writer) (int, time.Duration) {
	t0, last, lastAt := time.Now(), -1, time.Now()
	for {
		got := r.prompts.promptCount("review") - base
		if got != last {
			last, lastAt = got, time.Now()
			fmt.Fprintf(log, "bench: scale: %d of %d open, orchestrator RSS %.0f MB\n", got, want,
				procstat.RSSMB(r.Local.Roles["orchestrator"].Pid(), "VmRSS"))
		}
		if got >= want || time.Since(lastAt) > stallAfter || sleep(ctx, time.Second) != nil {
			return got, time.Since(t0)
		}
	}
}

// scaleDecisions approves the review gate of random open releases, one at a
// time, and reports decision to next-activity latency.
func scaleDecisions(ctx context.Context, r *rig, sys *foureyes, ids []string, rep *report) error {
	var pick []string
	for _, i := range rand.Perm(len(ids)) {
		if len(pick) < r.cfg.scaleDecisions && r.prompts.isPrompted(ids[i], "review") {
			pick = append(pick, ids[i])
		}
	}
	samples, err := decideEach(ctx, sys, pick, "review", r.cfg.gap)
	if err != nil {
		return fmt.Errorf("decide while open: %w", err)
	}
	if err := waitPrompts(ctx, sys, pick, "approval"); err != nil {
		return err
	}
	lat, _, err := latencies(ctx, r, sys, samples)
	if err != nil {
		return err
	}
	rep.percentileRows(fmt.Sprintf("scale: decision → next activity with %d open", len(ids)), lat, nil, "")
	return nil
}

// cancelAll asks every release to cancel, as its requester rita, and waits
// until none is running.
func cancelAll(ctx context.Context, r *rig, ids []string, rep *report, log io.Writer, what string) error {
	t0 := time.Now()
	err := forEach(ctx, ids, r.cfg.startConc, func(ctx context.Context, id string) error {
		return cancelAsRita(ctx, r, id)
	})
	if err != nil {
		return fmt.Errorf("cancel: %w", err)
	}
	signalled := time.Since(t0)
	if err := waitNoneRunning(ctx, r.Client, log); err != nil {
		return err
	}
	rep.row(what+": cancel all as rita (gateway): answered, all closed (s)",
		fmt.Sprintf("%.1f, %.1f", signalled.Seconds(), time.Since(t0).Seconds()), "", "", "")
	return checkCancelled(ctx, r, ids)
}

const runningReleases = "WorkflowType = 'Release' AND ExecutionStatus = 'Running'"

func waitNoneRunning(ctx context.Context, c client.Client, log io.Writer) error {
	for {
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: runningReleases})
		if err == nil && resp.GetCount() == 0 {
			return nil
		}
		if err == nil {
			fmt.Fprintf(log, "bench: scale: %d releases still running\n", resp.GetCount())
		}
		if err := sleep(ctx, 2*time.Second); err != nil {
			return err
		}
	}
}

// checkCancelled checks that a sample of the releases ended cancelled.
func checkCancelled(ctx context.Context, r *rig, ids []string) error {
	for _, i := range rand.Perm(len(ids))[:min(20, len(ids))] {
		res, err := api.ResultOf(ctx, r.Client.GetWorkflow(ctx, ids[i], ""))
		if err != nil {
			return err
		}
		if res.Status != api.StatusCancelled {
			return fmt.Errorf("release %s ended %s after cancel: %s", ids[i], res.Status, res.Reason)
		}
	}
	return nil
}

// cancelAsRita cancels through the gateway with rita's token, as
// `starter cancel` does: cancels are signed by the approval role. A busy
// stack may answer 503 or 429 (try again) or 202 (not processed yet): the
// same request id is sent again until the answer is final.
func cancelAsRita(ctx context.Context, r *rig, id string) error {
	body, _ := json.Marshal(map[string]string{"release_id": id, "reason": "bench: scale phase over",
		"request_id": uuid.NewString()})
	var err error
	for attempt := range 10 {
		code, data, perr := postCancel(ctx, r, body)
		switch {
		case perr != nil:
			return perr
		case code == http.StatusOK:
			return nil
		case code != http.StatusAccepted && code != http.StatusTooManyRequests && code != http.StatusServiceUnavailable:
			return fmt.Errorf("cancel answered %d: %s", code, bytes.TrimSpace(data))
		}
		err = fmt.Errorf("cancel answered %d after %d tries: %s", code, attempt+1, bytes.TrimSpace(data))
		time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
	}
	return err
}

func postCancel(ctx context.Context, r *rig, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Local.GatewayURL()+api.PathCancels, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.Tokens["rita"])
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}
