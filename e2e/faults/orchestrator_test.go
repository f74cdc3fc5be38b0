package faults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/devstack"
)

// The attacks of a hostile orchestrator (issue "One judge", attacks 1, 3,
// 4 and 6): a worker polling the orchestrator's queue takes a new release's
// workflow task — it *is* that release's workflow — and asks the deploy
// role and the orchestrator role for what it wants, with another, deployed
// release's signed bundle. Each fails at the role that owns the step,
// judged from the server's account of who called, not from the input.

// hijacked is what the attacker's Release workflow reports.
type hijacked struct {
	Hijacked bool   `json:"hijacked"`
	Error    string `json:"error"`
}

// hostileOrder is one thing the hijacked release asks for.
type hostileOrder struct {
	name, queue, activity string
	input                 func(self string) any
	want                  string
}

func (a *attackRun) hostileOrchestrator(ctx context.Context, t *testing.T) {
	r := a.reference(ctx, t)
	bundle := bundleOf(r.entries)
	deployOf := func(id, promotes string) api.DeployInput {
		return api.DeployInput{ReleaseID: id, Service: r.req.Service, Environment: r.req.Environment, Commit: r.result.Commit,
			ArtifactRef: r.result.ArtifactRef, Digest: r.result.ArtifactDigest, PolicyHash: a.hash, Promotes: promotes, Bundle: bundle}
	}
	orders := []hostileOrder{
		{"Deploy under the deployed release's id, with its bundle", api.QueueDeploy, api.ActivityDeploy,
			func(string) any { return deployOf(r.id, "") }, "a release deploys only itself"},
		{"Deploy under its own id, the deployed release's bundle as a promotion of it", api.QueueDeploy, api.ActivityDeploy,
			func(self string) any { return deployOf(self, r.id) }, "was started promoting"},
		// the deploy role reads the evidence from the calling run's history
		// (Release v7), so the bundle in the input is not even looked at
		{"Deploy under its own id, with the deployed release's bundle", api.QueueDeploy, api.ActivityDeploy,
			func(self string) any { return deployOf(self, "") }, "build provenance: unsigned"},
		{"Rollback of the deployed release", api.QueueDeploy, api.ActivityRollback,
			func(string) any { return deployOf(r.id, "") }, "a release deploys only itself"},
		{"Verify of the deployed release (its pass starts a soak, its failure permits a rollback)", api.QueueDeploy, api.ActivityVerify,
			func(string) any { return deployOf(r.id, "") }, "verify refused"},
		{"Seal of the deployed release's trail at a head of its choosing", api.QueueOrchestrator, api.ActivitySeal,
			func(string) any {
				return api.SealInput{ReleaseID: r.id, PolicyHash: a.hash, Head: strings.Repeat("0", 64), Entries: 3, Status: "deployed"}
			}, "a release seals only its own"},
	}
	for _, o := range orders {
		a.attempt(t, "hostile orchestrator", o.name, func() error { return a.hijack(ctx, t, r, o) })
	}
	a.attempt(t, "release id reuse", "the release manager starts a new run under the deployed release's id", func() error {
		return a.reuseID(ctx, r)
	})
}

// reuseID: a new run under a closed release's id would take decisions
// bound to that id; the server keeps a release id to one run.
func (a *attackRun) reuseID(ctx context.Context, r ref) error {
	rm, err := a.s.Local.Dial(ctx, devstack.IdentityReleaseManager)
	if err != nil {
		return err
	}
	defer rm.Close()
	_, err = rm.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: r.id, TaskQueue: api.QueueOrchestrator,
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, WorkflowExecutionErrorWhenAlreadyStarted: true},
		api.WorkflowRelease, r.req)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if !errors.As(err, &started) {
		return fmt.Errorf("a second run of %s: %v; want WorkflowExecutionAlreadyStarted", r.id, err)
	}
	d, err := a.s.Client.DescribeWorkflowExecution(ctx, r.id, "")
	if err != nil {
		return err
	}
	if st := d.WorkflowExecutionInfo.GetStatus(); st != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		return fmt.Errorf("release %s's latest run is %s, not its completed one", r.id, st)
	}
	return nil
}

// hijack starts releases until the attacker's workflow worker takes one,
// has it ask for o, and checks the role refused and nothing changed.
func (a *attackRun) hijack(ctx context.Context, t *testing.T, r ref, o hostileOrder) error {
	w := worker.New(a.s.Client, api.QueueOrchestrator, worker.Options{Identity: "mallory@orchestrator",
		MaxConcurrentWorkflowTaskPollers: 16})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context, _ api.ReleaseRequest) (hijacked, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{TaskQueue: o.queue,
			StartToCloseTimeout: time.Minute, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
		err := workflow.ExecuteActivity(ctx, o.activity, o.input(workflow.GetInfo(ctx).WorkflowExecution.ID)).Get(ctx, nil)
		out := hijacked{Hijacked: true}
		if err != nil {
			out.Error = err.Error()
		}
		return out, nil
	}, workflow.RegisterOptions{Name: api.WorkflowRelease})
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	time.Sleep(500 * time.Millisecond) // the pollers reach the server
	id, res, err := a.takeOne(ctx, t, r.req.Service)
	switch {
	case err != nil:
		return err
	case !strings.Contains(res.Error, o.want):
		return fmt.Errorf("%s: the role answered %q; want a refusal saying %q", o.activity, res.Error, o.want)
	case a.s.deployed(id) != 0:
		return fmt.Errorf("the hijacked release %s deployed", id)
	}
	return a.refStillDeployed(r)
}

// takeOne starts releases until one's first workflow task went to the
// attacker's worker (it completes at once, the real ones wait at review).
func (a *attackRun) takeOne(ctx context.Context, t *testing.T, service string) (string, hijacked, error) {
	for try := 1; try <= 20; try++ {
		id, err := a.startRelease(ctx, service, commitOf(fmt.Sprintf("hijacked-%d", try)))
		if err != nil {
			return "", hijacked{}, err
		}
		a.aim(id)
		var res hijacked
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = a.s.Client.GetWorkflow(wctx, id, "").Get(wctx, &res)
		cancel()
		if err == nil && res.Hijacked {
			t.Logf("release %s taken by the attacker's workflow worker at try %d: %s", id, try, res.Error)
			return id, res, nil
		}
		if d, derr := a.s.Client.DescribeWorkflowExecution(ctx, id, ""); derr == nil &&
			d.WorkflowExecutionInfo.GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return "", hijacked{}, fmt.Errorf("release %s ended %s without the attacker's answer: %v", id, d.WorkflowExecutionInfo.GetStatus(), err)
		}
	}
	return "", hijacked{}, errors.New("20 releases in a row went to the real orchestrator")
}

// refStillDeployed: the deployed release's record is as its deploy left it.
func (a *attackRun) refStillDeployed(r ref) error {
	file := filepath.Join(a.s.Local.DataDir, "deployments", r.req.Environment, r.req.Service+".json")
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("the deployed release's record: %w", err)
	}
	if !strings.Contains(string(data), `"`+r.id+`"`) {
		return fmt.Errorf("%s no longer names the deployed release %s: %s", file, r.id, data)
	}
	return nil
}

// bundleOf is the signed bundle a deployed release's trail holds.
func bundleOf(entries []audit.Entry) *api.Bundle {
	b := &api.Bundle{}
	for _, e := range entries {
		switch {
		case e.Type == audit.EventStageFinished && e.Stage == api.StageCode:
			b.Provenance = attest.Envelope(e.Envelope)
		case e.Type == audit.EventStageFinished && e.Stage == api.StageReview:
			b.Review = attest.Envelope(e.Envelope)
		case e.Type == audit.EventDecision:
			b.Decisions = append(b.Decisions, attest.Envelope(e.Envelope))
		}
	}
	return b
}
