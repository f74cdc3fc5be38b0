package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/policy"
)

// awaitingStatus is the ReleaseStatus of a release whose gate is open.
var awaitingStatus = map[string]string{policy.GateReview: api.StatusAwaitingReview,
	policy.GateApproval: api.StatusAwaitingApproval, api.GateFollowUp: api.StatusAwaitingFollowUp}

// decideAll approves the gate of RELEASE and of every running release of
// the same service and commit waiting at that gate; the gateway decides
// only those that run RELEASE's artifact, each on its own.
func decideAll(e *env, d decideArgs, token string) error {
	ids, err := queuedWithSameArtifact(e, d.req.ReleaseID, d.req.Gate)
	if err != nil {
		return err
	}
	gw := gatewayClient{d.gatewayURL, token}
	status, raw, err := gw.post(api.PathBatch, api.BatchRequest{DecisionRequest: d.req, Releases: ids})
	if err != nil {
		return err
	}
	var ans api.BatchAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fail(exitFailure, "gateway %s: answered %d %s: %v", gw.url, status, http.StatusText(status), err)
	}
	if err := printBatch(e, ans, d.asJSON); err != nil {
		return err
	}
	return batchError(status, ans)
}

// queuedWithSameArtifact lists the running releases of RELEASE's service
// and commit that wait at gate (RELEASE itself excluded).
func queuedWithSameArtifact(e *env, id, gate string) ([]string, error) {
	c, err := dial(e)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var st api.Status
	if err := query(ctx, c, id, api.QueryStatus, &st); err != nil {
		return nil, err
	}
	commit := st.Commit
	if commit == "" {
		commit = st.Request.Commit
	}
	if !api.ValidName(st.Request.Service) || !api.ValidCommit(commit) || st.ArtifactDigest == "" {
		return nil, fail(exitRefused, "release %s has no built artifact yet (service %q, commit %q): nothing to match", id, st.Request.Service, commit)
	}
	return listQueued(ctx, c, id, fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running' AND %s = '%s' AND %s = '%s' AND %s = '%s'",
		api.WorkflowRelease, api.AttrService.GetName(), st.Request.Service, api.AttrCommit.GetName(), commit,
		api.AttrStatus.GetName(), awaitingStatus[gate]))
}

func listQueued(ctx context.Context, c client.Client, self, q string) ([]string, error) {
	rows, err := listReleases(ctx, c, listFilter{limit: 20, raw: q})
	if err != nil {
		return nil, fail(exitFailure, "listing the releases waiting with %s: %v", self, err)
	}
	var ids []string
	for _, r := range rows {
		if r.ReleaseID != self {
			ids = append(ids, r.ReleaseID)
		}
	}
	return ids, nil
}

// printBatch reports the decision per release.
func printBatch(e *env, b api.BatchAnswer, asJSON bool) error {
	if asJSON {
		return printJSON(e.stdout, b)
	}
	if b.Digest != "" {
		fmt.Fprintf(e.stdout, "artifact sha256:%s, %d release(s):\n", b.Digest, len(b.Answers))
	}
	for _, a := range b.Answers {
		what := strings.TrimSuffix(a.Outcome+": "+a.Reason, ": ")
		if a.Error != "" {
			what = a.Error
		}
		fmt.Fprintf(e.stdout, "  %s: %s\n", a.ReleaseID, what)
	}
	return nil
}

// batchError: 0 when every release took the decision, refused (3) when
// some did not.
func batchError(status int, b api.BatchAnswer) error {
	switch {
	case status == http.StatusOK:
		return nil
	case status == http.StatusMultiStatus:
		n := 0
		for _, a := range b.Answers {
			if a.Outcome != api.OutcomeAccepted {
				n++
			}
		}
		return fail(exitRefused, "%d of %d releases did not take the decision", n, len(b.Answers))
	}
	return answerError(status, api.Answer{Error: b.Error})
}
