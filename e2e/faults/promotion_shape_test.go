package faults

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/stacktest"
)

// promotedBase is dave's commit under erin's fix in commit-promoted.
var promotedBase string

// withPromoted adds environment promoted, which takes only what staging ran
// verified (for a second), for the promotion shape.
func withPromoted(data []byte) []byte {
	return withEnvironment(data, "promoted", "    requires:\n      environment: staging\n      verified_for: 1s", "", "")
}

// promotionShape (issue "Commits prove their authors", the promotion shape):
// dave's commit goes to staging, then erin's fix on top, whose staging
// change is erin's alone. Promoted to an environment where nothing runs,
// that change does not cover what the target runs: the promotion fails
// closed ("release the commit again"), so dave is never an eligible
// approver of his own commit there. Counted against the source, dave
// would approve it.
func (a *attackRun) promotionShape(ctx context.Context) error {
	if _, err := a.stagingRelease(ctx, promotedBase); err != nil {
		return err
	}
	fix, err := a.stagingRelease(ctx, commitHeads["commit-promoted"])
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // promoted's verified_for
	id, err := a.promote(ctx, fix, "promoted")
	if err != nil {
		return err
	}
	res, err := a.result(ctx, id)
	if err == nil && (res.Status != api.StatusFailed || !strings.Contains(res.Reason, "does not cover")) {
		err = fmt.Errorf("the promotion of erin's fix over dave's commit ended %s: %s; want failed: the change does not cover what promoted runs", res.Status, res.Reason)
	}
	return err
}

// stagingRelease takes commit of commit-promoted to staging the honest way.
func (a *attackRun) stagingRelease(ctx context.Context, commit string) (string, error) {
	id := releaseID("commit-promoted")
	_, err := a.s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: api.QueueOrchestrator,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL}, api.WorkflowRelease,
		api.ReleaseRequest{Service: "commit-promoted", Environment: "staging", Commit: commit, Requester: "rita", Title: "promotion shape"})
	steps := []func() error{
		func() error { return a.s.WaitStatus(ctx, id, api.StatusAwaitingReview) },
		func() error { return a.legit(ctx, id, "review", "bob") },
		func() error { return a.s.WaitStatus(ctx, id, api.StatusAwaitingApproval) },
		func() error { return a.legit(ctx, id, "approval", "carol") },
		func() error { return a.s.WaitStatus(ctx, id, api.StatusDeployed) },
	}
	for _, step := range steps {
		if err != nil {
			break
		}
		err = step()
	}
	return id, err
}

// promote starts the promotion of release from to env, with its signed
// provenance from its trail, as `starter promote` does.
func (a *attackRun) promote(ctx context.Context, from, env string) (string, error) {
	trail, err := stacktest.Query[audit.Trail](ctx, a.s.Client, from, api.QueryAudit)
	if err != nil {
		return "", err
	}
	var prov attest.Envelope
	for _, e := range trail.Entries {
		if e.Type == audit.EventStageFinished && e.Stage == api.StageCode && len(e.Envelope) > 0 {
			prov = attest.Envelope(e.Envelope)
		}
	}
	if prov == nil {
		return "", errors.New("no build provenance in the staging release's trail")
	}
	id := releaseID("commit-promoted")
	a.aim(id)
	_, err = a.s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: api.QueueOrchestrator,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL}, api.WorkflowRelease,
		api.ReleaseRequest{Service: "commit-promoted", Environment: env, Commit: commitHeads["commit-promoted"], Requester: "rita",
			Title: "promotion shape", Promotes: &api.Promotion{Release: from, Provenance: prov}})
	return id, err
}
