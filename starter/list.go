package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

const maxListLimit = 1000

// listed is one release in list's output.
type listed struct {
	ReleaseID   string     `json:"release_id"`
	RunID       string     `json:"run_id"`
	Status      string     `json:"status"`
	Service     string     `json:"service,omitempty"`
	Environment string     `json:"environment,omitempty"`
	StartTime   time.Time  `json:"start_time"`
	CloseTime   *time.Time `json:"close_time,omitempty"`
}

type listFilter struct {
	service, env, status string
	limit                int
}

func cmdList(e *env, args []string) error {
	fs := newFlags("list")
	var f listFilter
	fs.StringVar(&f.service, "service", "", "only this service")
	fs.StringVar(&f.env, "env", "", "only this environment")
	fs.StringVar(&f.status, "status", "", "running or closed")
	fs.IntVar(&f.limit, "limit", 20, "at most N releases")
	asJSON := fs.Bool("json", false, "print JSON")
	_, err := parseArgs(fs, args)
	if err == nil {
		err = f.validate()
	}
	if err != nil {
		return err
	}
	var rows []listed
	err = withClient(e, func(ctx context.Context, c client.Client) (err error) {
		rows, err = listReleases(ctx, c, f)
		return err
	})
	switch {
	case err != nil:
		return fail(exitFailure, "listing releases: %v", err)
	case *asJSON:
		return printJSON(e.stdout, rows)
	}
	return printList(e.stdout, rows)
}

func printList(w io.Writer, rows []listed) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tSTARTED")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ReleaseID, r.Status, r.StartTime.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

func (f listFilter) validate() error {
	switch {
	case f.service != "" && !namePattern.MatchString(f.service):
		return fail(exitUsage, "--service: must match [a-z0-9-]+")
	case f.env != "" && !namePattern.MatchString(f.env):
		return fail(exitUsage, "--env: must match [a-z0-9-]+")
	case f.status != "" && f.status != "running" && f.status != "closed":
		return fail(exitUsage, "--status: must be running or closed")
	case f.limit < 1 || f.limit > maxListLimit:
		return fail(exitUsage, "--limit: must be between 1 and %d", maxListLimit)
	}
	return nil
}

// visibilityQuery selects Release workflows; the id prefix narrows by
// service and environment (ids are release-<service>-<env>-<uuid>).
func (f listFilter) visibilityQuery() string {
	q := []string{"WorkflowType = '" + releaseWorkflow + "'"}
	switch {
	case f.service != "" && f.env != "":
		q = append(q, fmt.Sprintf("WorkflowId STARTS_WITH 'release-%s-%s-'", f.service, f.env))
	case f.service != "":
		q = append(q, fmt.Sprintf("WorkflowId STARTS_WITH 'release-%s-'", f.service))
	}
	switch f.status {
	case "running":
		q = append(q, "ExecutionStatus = 'Running'")
	case "closed":
		q = append(q, "ExecutionStatus != 'Running'")
	}
	return strings.Join(q, " AND ")
}

// listReleases pages through visibility until limit matches are found.
func listReleases(ctx context.Context, c client.Client, f listFilter) ([]listed, error) {
	req := &workflowservice.ListWorkflowExecutionsRequest{PageSize: int32(f.limit), Query: f.visibilityQuery()}
	rows := []listed{}
	for {
		resp, err := c.ListWorkflow(ctx, req)
		if err != nil {
			return nil, err
		}
		for _, ex := range resp.GetExecutions() {
			if r := toListed(ex); f.matches(r) && len(rows) < f.limit {
				rows = append(rows, r)
			}
		}
		req.NextPageToken = resp.GetNextPageToken()
		if len(rows) >= f.limit || len(req.NextPageToken) == 0 {
			return rows, nil
		}
	}
}

// matches filters on the memo the release was started with, since an id
// prefix cannot tell service "a" in env "b-c" from service "a-b" in env "c".
func (f listFilter) matches(r listed) bool {
	if r.Service == "" && r.Environment == "" { // no memo: trust the id
		return f.env == "" || strings.Contains(r.ReleaseID, "-"+f.env+"-")
	}
	return (f.service == "" || r.Service == f.service) && (f.env == "" || r.Environment == f.env)
}

func toListed(ex *workflowpb.WorkflowExecutionInfo) listed {
	r := listed{ReleaseID: ex.GetExecution().GetWorkflowId(), RunID: ex.GetExecution().GetRunId(),
		Status: statusName(ex.GetStatus()), StartTime: ex.GetStartTime().AsTime()}
	if ex.GetCloseTime() != nil {
		t := ex.GetCloseTime().AsTime()
		r.CloseTime = &t
	}
	fields := ex.GetMemo().GetFields()
	r.Service, r.Environment = memoString(fields["service"]), memoString(fields["environment"])
	return r
}

func memoString(p *commonpb.Payload) string {
	var s string
	if p != nil {
		_ = converter.GetDefaultDataConverter().FromPayload(p, &s)
	}
	return s
}
