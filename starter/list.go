package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/api"
)

const maxListLimit = 1000

// listed is one release in list's output: Status is the execution status,
// ReleaseStatus and the rest come from the release's search attributes.
type listed struct {
	ReleaseID     string     `json:"release_id"`
	RunID         string     `json:"run_id"`
	Status        string     `json:"status"`
	ReleaseStatus string     `json:"release_status,omitempty"`
	Service       string     `json:"service,omitempty"`
	Environment   string     `json:"environment,omitempty"`
	Requester     string     `json:"requester,omitempty"`
	Commit        string     `json:"commit,omitempty"`
	Awaiting      []string   `json:"awaiting,omitempty"`
	StartTime     time.Time  `json:"start_time"`
	CloseTime     *time.Time `json:"close_time,omitempty"`
}

type listFilter struct {
	service, env, status, requester, awaiting string
	since                                     time.Duration // started within; 0 = any time
	now                                       time.Time
	limit                                     int
	raw                                       string // a query built elsewhere (validated there)
}

// releaseStatuses are the values of ReleaseStatus that --status takes.
var releaseStatuses = []string{api.StatusBuilding, api.StatusAwaitingReview, api.StatusAwaitingApproval,
	api.StatusDeploying, api.StatusDeployed, api.StatusRejected, api.StatusExpired,
	api.StatusCancelled, api.StatusRolledBack, api.StatusFailed}

var identityPattern = regexp.MustCompile(`^[A-Za-z0-9._@+-]+$`)

func cmdList(e *env, args []string) error {
	fs := newFlags("list")
	var f listFilter
	fs.StringVar(&f.service, "service", "", "only this service")
	fs.StringVar(&f.env, "env", "", "only this environment")
	fs.StringVar(&f.status, "status", "", "running, closed, or a release status ("+strings.Join(releaseStatuses, ", ")+")")
	fs.StringVar(&f.requester, "requester", "", "only releases requested by this identity")
	fs.StringVar(&f.awaiting, "awaiting", "", "only releases whose open gate awaits this identity")
	fs.DurationVar(&f.since, "since", 0, "only releases started within this `DURATION` (e.g. 168h)")
	fs.IntVar(&f.limit, "limit", 20, "at most `N` releases")
	asJSON := fs.Bool("json", false, "print JSON")
	f.now = time.Now()
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
	fmt.Fprintln(tw, "ID\tSTATUS\tSERVICE\tENV\tREQUESTER\tAWAITING\tSTARTED")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ReleaseID, r.shownStatus(), dash(r.Service), dash(r.Environment),
			dash(r.Requester), dash(strings.Join(r.Awaiting, ",")), r.StartTime.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

// shownStatus is the release status, with the execution's when the release
// ended outside the workflow (terminated, timed out…).
func (r listed) shownStatus() string {
	switch {
	case r.ReleaseStatus == "":
		return r.Status
	case r.Status == "running" || r.Status == "completed":
		return r.ReleaseStatus
	}
	return r.ReleaseStatus + " (" + r.Status + ")"
}

func (f listFilter) validate() error {
	switch {
	case f.service != "" && !api.ValidName(f.service):
		return fail(exitUsage, "--service: must be %s (got %q)", api.NameRule, f.service)
	case f.env != "" && !api.ValidName(f.env):
		return fail(exitUsage, "--env: must be %s (got %q)", api.NameRule, f.env)
	case f.status != "" && f.status != "running" && f.status != "closed" && !slices.Contains(releaseStatuses, f.status):
		return fail(exitUsage, "--status: must be running, closed or one of %s", strings.Join(releaseStatuses, ", "))
	case f.requester != "" && !identityPattern.MatchString(f.requester):
		return fail(exitUsage, "--requester: not an identity")
	case f.awaiting != "" && !identityPattern.MatchString(f.awaiting):
		return fail(exitUsage, "--awaiting: not an identity")
	case f.since < 0:
		return fail(exitUsage, "--since: must be a positive duration")
	case f.limit < 1 || f.limit > maxListLimit:
		return fail(exitUsage, "--limit: must be between 1 and %d", maxListLimit)
	}
	return nil
}

// visibilityQuery selects Release workflows by their search attributes
// (values are validated: no quotes can reach the query).
func (f listFilter) visibilityQuery() string {
	if f.raw != "" {
		return f.raw
	}
	q := []string{"WorkflowType = '" + api.WorkflowRelease + "'"}
	add := func(attr, v string) {
		if v != "" {
			q = append(q, fmt.Sprintf("%s = '%s'", attr, v))
		}
	}
	add(api.AttrService.GetName(), f.service)
	add(api.AttrEnvironment.GetName(), f.env)
	switch f.status {
	case "running":
		q = append(q, "ExecutionStatus = 'Running'")
	case "closed":
		q = append(q, "ExecutionStatus != 'Running'")
	default:
		add(api.AttrStatus.GetName(), f.status)
	}
	add(api.AttrRequester.GetName(), f.requester)
	add(api.AttrAwaiting.GetName(), f.awaiting)
	if f.since > 0 {
		q = append(q, "StartTime > '"+f.now.Add(-f.since).UTC().Format(time.RFC3339)+"'")
	}
	return strings.Join(q, " AND ")
}

// listReleases pages through visibility until limit releases are found.
func listReleases(ctx context.Context, c client.Client, f listFilter) ([]listed, error) {
	req := &workflowservice.ListWorkflowExecutionsRequest{PageSize: int32(f.limit), Query: f.visibilityQuery()}
	rows := []listed{}
	for {
		resp, err := c.ListWorkflow(ctx, req)
		if err != nil {
			return nil, err
		}
		for _, ex := range resp.GetExecutions() {
			if len(rows) < f.limit {
				rows = append(rows, toListed(ex))
			}
		}
		req.NextPageToken = resp.GetNextPageToken()
		if len(rows) >= f.limit || len(req.NextPageToken) == 0 {
			return rows, nil
		}
	}
}

func toListed(ex *workflowpb.WorkflowExecutionInfo) listed {
	r := listed{ReleaseID: ex.GetExecution().GetWorkflowId(), RunID: ex.GetExecution().GetRunId(),
		Status: statusName(ex.GetStatus()), StartTime: ex.GetStartTime().AsTime()}
	if ex.GetCloseTime() != nil {
		t := ex.GetCloseTime().AsTime()
		r.CloseTime = &t
	}
	sa := ex.GetSearchAttributes().GetIndexedFields()
	decode(sa[api.AttrStatus.GetName()], &r.ReleaseStatus)
	decode(sa[api.AttrService.GetName()], &r.Service)
	decode(sa[api.AttrEnvironment.GetName()], &r.Environment)
	decode(sa[api.AttrRequester.GetName()], &r.Requester)
	decode(sa[api.AttrCommit.GetName()], &r.Commit)
	decode(sa[api.AttrAwaiting.GetName()], &r.Awaiting)
	memo := ex.GetMemo().GetFields() // releases started before the search attributes
	if r.Service == "" {
		decode(memo["service"], &r.Service)
		decode(memo["environment"], &r.Environment)
	}
	return r
}

// decode sets *v from a payload, leaving it unchanged when there is none.
func decode(p *commonpb.Payload, v any) {
	if p != nil {
		_ = converter.GetDefaultDataConverter().FromPayload(p, v)
	}
}
