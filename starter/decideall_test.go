package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
)

// batchTemporal: staging (the named release) and prod wait at approval
// with one artifact; prod's gate refuses.
type batchTemporal struct{ *signedTemporal }

func (b batchTemporal) UpdateWorkflow(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	_, _ = b.signedTemporal.UpdateWorkflow(ctx, o)
	out := api.DecisionOutcome{Outcome: "accepted", Reason: "counted", GateState: "open"}
	if o.WorkflowID == "rel-prod" {
		out = api.DecisionOutcome{Outcome: "refused", Reason: "carol is not in prod-approvers", GateState: "open"}
	}
	return doneUpdate{value: out}, nil
}

func newBatchTemporal() batchTemporal {
	s := newSignedTemporal(nil)
	commit := strings.Repeat("c", 40)
	s.queries = map[string]any{api.QueryStatus: api.Status{ReleaseID: "rel-staging", Commit: commit,
		ArtifactDigest: s.binding.ArtifactDigest, Request: api.ReleaseRequest{Service: "api", Environment: "staging"}}}
	for _, id := range []string{"rel-staging", "rel-prod"} {
		s.executions = append(s.executions, &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: id}})
	}
	return batchTemporal{s}
}

func TestDecideAllForDigest(t *testing.T) {
	fake := newBatchTemporal()
	gatewayFor(t, fake)
	t.Setenv("FOUREYES_TOKEN", demoToken(t, "carol"))
	code, out, errs := cli(t, fake.fakeTemporal, "decide", "rel-staging", "--gate", "approval", "--approve",
		"--all-for-digest", "--comment", "same change", "--request-id", "b-1")
	assert.Equal(t, exitRefused, code, errs)
	assert.Contains(t, errs, "1 of 2 releases did not take the decision")
	assert.Contains(t, out, "rel-staging: accepted: counted")
	assert.Contains(t, out, "rel-prod: refused: carol is not in prod-approvers")
	require.Len(t, fake.updates, 2, "one decision per release")
	assert.Equal(t, "rel-staging", fake.updates[0].WorkflowID)
	assert.Equal(t, "rel-prod", fake.updates[1].WorkflowID)
	require.Len(t, fake.listQueries, 1)
	assert.Equal(t, "WorkflowType = 'Release' AND ExecutionStatus = 'Running' AND ReleaseService = 'api' AND "+
		"ReleaseCommit = '"+strings.Repeat("c", 40)+"' AND ReleaseStatus = 'awaiting_approval'", fake.listQueries[0])
}

func TestDecideAllForDigestRefusesRejects(t *testing.T) {
	code, _, errs := cli(t, nil, "decide", "rel-staging", "--gate", "approval", "--reject", "--comment", "no", "--all-for-digest")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errs, "only an approval is taken for several releases")
}
