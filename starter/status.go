package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/tracing"
)

// closedStatus is shown when a closed release no longer answers the query.
type closedStatus struct {
	ReleaseID   string    `json:"release_id"`
	CloseStatus string    `json:"close_status"`
	CloseTime   time.Time `json:"close_time"`
	QueryError  string    `json:"query_error"`
}

func cmdStatus(e *env, args []string) error {
	fs := newFlags("status")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(fs, args, "RELEASE")
	if err != nil {
		return err
	}
	return withClient(e, func(ctx context.Context, c client.Client) error {
		var st api.Status
		if qerr := query(ctx, c, pos[0], api.QueryStatus, &st); qerr != nil {
			return showClosed(ctx, e, c, pos[0], qerr, *asJSON)
		}
		traceID := releaseTraceID(ctx, c, pos[0])
		if *asJSON {
			return printJSON(e.stdout, struct {
				api.Status
				TraceID string `json:"trace_id,omitempty"`
			}{st, traceID})
		}
		printStatus(e.stdout, st, traceID, time.Now())
		printPageRow(e, st)
		return nil
	})
}

// query runs a workflow query and decodes its answer into out.
func query(ctx context.Context, c client.Client, id, name string, out any, args ...any) error {
	v, err := c.QueryWorkflow(ctx, id, "", name, args...)
	if err != nil {
		return temporalError(id, err)
	}
	if err := v.Get(out); err != nil {
		return fail(exitFailure, "decoding %s answer: %v", name, err)
	}
	return nil
}

// showClosed falls back to the close status when the query failed.
func showClosed(ctx context.Context, e *env, c client.Client, id string, qerr error, asJSON bool) error {
	resp, err := describe(ctx, c, id)
	if err != nil {
		return err
	}
	info := resp.GetWorkflowExecutionInfo()
	if info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return fmt.Errorf("release %s is running but its status query failed: %w", id, qerr)
	}
	out := closedStatus{ReleaseID: id, CloseStatus: statusName(info.GetStatus()),
		CloseTime: info.GetCloseTime().AsTime(), QueryError: qerr.Error()}
	if asJSON {
		return printJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "release %s: %s at %s (status query failed: %s)\n",
		id, out.CloseStatus, out.CloseTime.Format(time.RFC3339), out.QueryError)
	return nil
}

// releaseTraceID is the release's OpenTelemetry trace id, from the trace
// context its start carried (a Temporal header, never encrypted): "" when
// it was started untraced or the history cannot be read.
func releaseTraceID(ctx context.Context, c client.Client, id string) string {
	sc, ok, err := tracing.OfRelease(ctx, c, id)
	if err != nil || !ok {
		return ""
	}
	return sc.TraceID().String()
}

func printStatus(w io.Writer, st api.Status, traceID string, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	printRequest(tw, st.ReleaseID, st.Request)
	fmt.Fprintf(tw, "stage\t%s\n", st.Stage)
	fmt.Fprintf(tw, "status\t%s\n", st.Status)
	if em := st.Emergency; em != nil {
		fmt.Fprintf(tw, "EMERGENCY\tdeclared by %s: %s\n", em.DeclaredBy, em.Reason)
	}
	row(tw, "promotes", promotesLine(st))
	if st.OpenGate != "" {
		fmt.Fprintf(tw, "open gate\t%s: %d of %d signed\n", st.OpenGate, accepted(st.Signed), st.Quorum)
	}
	row(tw, "signed", signers(st.Signed))
	row(tw, "awaiting", strings.Join(st.Awaiting, ", "))
	if !st.Deadline.IsZero() {
		fmt.Fprintf(tw, "deadline\t%s (%s)\n", st.Deadline.Format(time.RFC3339), until(st.Deadline, now))
	}
	printChange(tw, st)
	row(tw, "artifact", st.ArtifactRef)
	row(tw, "digest", st.ArtifactDigest)
	row(tw, "policy", st.PolicyHash)
	if f := st.LastRefusal; f != nil {
		fmt.Fprintf(tw, "last refusal\t%s at %s via %s: %s\n", f.Identity, f.Gate, f.Channel, f.Reason)
	}
	row(tw, "executors", strings.Join(st.Executors, ", "))
	if res := st.Result; res != nil {
		fmt.Fprintf(tw, "result\t%s\n", strings.TrimSuffix(res.Status+": "+res.Reason, ": "))
	}
	row(tw, "trace", traceID)
	tw.Flush()
}

// printChange shows the commit the release pinned and, from git, the
// change's commits and authors.
func printChange(w io.Writer, st api.Status) {
	if st.Commit != "" && st.Commit != st.Request.Commit {
		fmt.Fprintf(w, "commit\t%s (%s resolved by the build role)\n", st.Commit, st.Request.Commit)
	} else {
		row(w, "commit", st.Commit)
	}
	c := st.Change
	if c == nil {
		return
	}
	since := "nothing deployed before: the whole history"
	if c.Baseline != "" {
		since = "nothing deployed before: every commit since the baseline " + short(c.Baseline)
	}
	if c.Base != "" {
		since = fmt.Sprintf("since %s (release %s)", short(c.Base), c.BaseRelease)
		if !c.BaseIsAncestor {
			since += ", not an ancestor: every commit since their merge base"
		}
	}
	fmt.Fprintf(w, "commits\t%d of %s, %s\n", c.CommitCount, c.Repository, since)
	for _, k := range c.Commits {
		if p := k.Proof(); p != "" {
			fmt.Fprintf(w, "\t  %s %s (%s; %s)\n", short(k.SHA), k.Subject, k.Author, p)
		} else {
			fmt.Fprintf(w, "\t  %s %s (%s)\n", short(k.SHA), k.Subject, k.Author)
		}
	}
	if c.Unproven > 0 {
		fmt.Fprintf(w, "\t  %d of %d commits unsigned or not signed by a person of the policy: authorship unproven\n", c.Unproven, c.CommitCount)
	}
	if more := c.CommitCount - len(c.Commits); more > 0 {
		fmt.Fprintf(w, "\t  … and %d more\n", more)
	}
	row(w, "git authors", strings.Join(c.Authors, ", "))
	if len(c.Unmapped) > 0 {
		fmt.Fprintf(w, "unmapped\t%s (map to no identity: approvals are refused unless the policy allows them)\n", strings.Join(c.Unmapped, ", "))
	}
	row(w, "all authors", strings.Join(st.Authors, ", "))
}

func printRequest(w io.Writer, id string, r api.ReleaseRequest) {
	fmt.Fprintf(w, "release\t%s\n", id)
	fmt.Fprintf(w, "change\t%s → %s @ %s\n", r.Service, r.Environment, short(r.Commit))
	row(w, "title", r.Title)
	row(w, "authors", strings.Join(r.Authors, ", "))
	row(w, "requester", r.Requester)
}

// accepted counts approvals among the signers.
func accepted(s []api.Signer) int {
	n := 0
	for _, x := range s {
		if x.Verdict != api.VerdictReject {
			n++
		}
	}
	return n
}

func signers(s []api.Signer) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = fmt.Sprintf("%s (%s", x.Identity, x.Channel)
		if x.Verdict == api.VerdictReject {
			parts[i] += ", rejected"
		}
		parts[i] += ")"
	}
	return strings.Join(parts, ", ")
}

func until(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	if d < 0 {
		return "passed " + (-d).String() + " ago"
	}
	return "in " + d.String()
}
