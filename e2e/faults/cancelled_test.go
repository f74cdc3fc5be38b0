package faults

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/stacktest"
)

// queryHijacked answers only on the attacker's Release: how the test tells
// a taken release from one the real orchestrator runs.
const queryHijacked = "faults-hijacked"

// approvedThenCancelled (issue "One judge", finding 6): a hostile
// orchestrator runs a release honestly up to its gates — the real build
// and review roles build and review it, bob, carol and dave approve it
// through the gateway — then rita cancels it through the gateway, and the
// workflow asks for the deploy anyway with the approved bundle. The deploy
// role reads the release's history: the cancel is there, so it refuses.
func (a *attackRun) approvedThenCancelled(ctx context.Context, t *testing.T) {
	a.attempt(t, "hostile orchestrator", "Deploy of its own approved release after rita cancelled it", func() error {
		done := make(chan string, 1)
		w := worker.New(a.s.Client, api.QueueOrchestrator, worker.Options{Identity: "mallory@orchestrator", MaxConcurrentWorkflowTaskPollers: 16})
		w.RegisterWorkflowWithOptions(a.cancelledRelease, workflow.RegisterOptions{Name: api.WorkflowRelease})
		if err := w.Start(); err != nil {
			return err
		}
		defer w.Stop()
		time.Sleep(500 * time.Millisecond)
		id, err := a.takeWaiting(ctx, t)
		if err != nil {
			return err
		}
		// the attacker's worker stops with this attempt: end its release
		defer a.s.Client.TerminateWorkflow(context.Background(), id, "", "end of the attack") //nolint:errcheck
		if err := a.built(ctx, id); err != nil {
			return err
		}
		go func() { done <- a.resultText(ctx, id) }()
		if err := a.decideThenCancel(ctx, id); err != nil {
			return err
		}
		answer := <-done
		switch {
		case !strings.Contains(answer, "the release was cancelled by rita"):
			return fmt.Errorf("the deploy role answered %q; want a refusal naming rita's cancel", answer)
		case a.s.deployed(id) != 0:
			return fmt.Errorf("the cancelled release %s deployed", id)
		}
		return nil
	})
}

// decideThenCancel approves the taken release as bob, carol and dave and
// cancels it as rita, all through the gateway (signed and scoped to it).
func (a *attackRun) decideThenCancel(ctx context.Context, id string) error {
	for _, d := range [][2]string{{"review", "bob"}, {"approval", "carol"}, {"approval", "dave"}} {
		if err := a.legit(ctx, id, d[0], d[1]); err != nil {
			return err
		}
	}
	body := fmt.Sprintf(`{"release_id":%q,"reason":"wrong build","request_id":"cancel-after-approval"}`, id)
	code, got, err := a.s.post(ctx, "/v1/cancels", "Bearer "+a.s.Tokens["rita"], []byte(body), nil)
	if err != nil || code != 200 {
		return fmt.Errorf("rita's cancel: %d %v %v", code, got, err)
	}
	return nil
}

// built waits until the taken release's artifact is built and reviewed
// (its binding names the digest): its gates are open from then on.
func (a *attackRun) built(ctx context.Context, id string) error {
	_, err := stacktest.Retry(ctx, func(ctx context.Context) (api.Binding, error) {
		bd, err := a.binding(ctx, id)
		if err == nil && bd.ArtifactDigest == "" {
			err = errors.New("not built yet")
		}
		return bd, err
	})
	return err
}

// takeWaiting starts releases until one is taken by the attacker's worker.
func (a *attackRun) takeWaiting(ctx context.Context, t *testing.T) (string, error) {
	for try := 1; try <= 20; try++ {
		id, err := a.startRelease(ctx, "payments", commitOf(fmt.Sprintf("cancelled-%d", try)))
		if err != nil {
			return "", err
		}
		a.aim(id)
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = a.s.Client.QueryWorkflow(qctx, id, "", queryHijacked)
		cancel()
		if err == nil {
			t.Logf("release %s taken by the attacker's worker at try %d", id, try)
			return id, nil
		}
	}
	return "", errors.New("20 releases in a row went to the real orchestrator")
}

// resultText is the attacker's Release's result: the deploy role's answer.
func (a *attackRun) resultText(ctx context.Context, id string) string {
	var out string
	if err := a.s.Client.GetWorkflow(ctx, id, "").Get(ctx, &out); err != nil {
		return "no result: " + err.Error()
	}
	return out
}

// cancelledRelease is the attacker's Release: honest roles do the work,
// every decision and cancel is taken, and the deploy is asked for once
// three decisions and a cancel have arrived.
func (a *attackRun) cancelledRelease(ctx workflow.Context, req api.ReleaseRequest) (string, error) {
	info := workflow.GetInfo(ctx).WorkflowExecution
	r := &rogueRun{req: req, id: info.ID, run: info.RunID, hash: a.hash}
	if err := r.handlers(ctx); err != nil {
		return "", err
	}
	if err := r.buildAndReview(ctx); err != nil {
		return "build or review: " + err.Error(), nil
	}
	r.open = true
	if err := workflow.Await(ctx, func() bool { return r.requests >= 4 }); err != nil {
		return "", err
	}
	err := r.call(ctx, api.QueueDeploy, api.ActivityDeploy, r.deployInput(), nil)
	if err == nil {
		return "deployed", nil
	}
	return err.Error(), nil
}

// rogueRun is the attacker's release state.
type rogueRun struct {
	req           api.ReleaseRequest
	id, run, hash string
	build         api.BuildResult
	review        api.ReviewResult
	requests      int
	open          bool // built and reviewed: the gates take decisions
}

func (r *rogueRun) handlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, queryHijacked, func() (bool, error) { return true, nil }); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, api.QueryBinding, func() (api.Binding, error) {
		digest := ""
		if r.open {
			digest = r.build.Digest
		}
		return api.Binding{ReleaseID: r.id, PolicyHash: r.hash, ArtifactDigest: digest, Signed: true,
			Service: r.req.Service, Environment: r.req.Environment, RunID: r.run}, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, api.UpdateDecide, func(ctx workflow.Context, _ api.SignedRequest) (api.DecisionOutcome, error) {
		r.requests++
		return api.DecisionOutcome{Outcome: api.OutcomeAccepted}, nil
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandler(ctx, api.UpdateCancel, func(ctx workflow.Context, _ api.SignedRequest) (api.CancelOutcome, error) {
		r.requests++
		return api.CancelOutcome{Outcome: api.OutcomeAccepted}, nil
	})
}

// buildAndReview has the real deploy, build and review roles do their part.
func (r *rogueRun) buildAndReview(ctx workflow.Context) error {
	var deployed api.DeployedResult
	if err := r.call(ctx, api.QueueDeploy, api.ActivityDeployed, api.DeployedInput{ReleaseID: r.id, Service: r.req.Service,
		Environment: r.req.Environment, PolicyHash: r.hash}, &deployed); err != nil {
		return err
	}
	if err := r.call(ctx, api.QueueBuild, api.ActivityBuild, api.BuildInput{ReleaseID: r.id, Service: r.req.Service,
		Environment: r.req.Environment, Commit: r.req.Commit, PolicyHash: r.hash, Requester: r.req.Requester, Git: true,
		Deployed: deployed.Statement}, &r.build); err != nil {
		return err
	}
	return r.call(ctx, api.QueueReview, api.ActivityReview, api.ReviewInput{ReleaseID: r.id, Service: r.req.Service,
		Commit: r.build.Commit, ArtifactRef: r.build.ArtifactRef, Digest: r.build.Digest, PolicyHash: r.hash}, &r.review)
}

func (r *rogueRun) deployInput() api.DeployInput {
	return api.DeployInput{ReleaseID: r.id, Service: r.req.Service, Environment: r.req.Environment, Commit: r.build.Commit,
		ArtifactRef: r.build.ArtifactRef, Digest: r.build.Digest, PolicyHash: r.hash,
		Bundle: &api.Bundle{Provenance: r.build.Provenance, Review: r.review.Attestation}}
}

func (r *rogueRun) call(ctx workflow.Context, queue, activity string, in, out any) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{TaskQueue: queue, StartToCloseTimeout: 2 * time.Minute,
		HeartbeatTimeout: 30 * time.Second, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
	return workflow.ExecuteActivity(ctx, activity, in).Get(ctx, out)
}
