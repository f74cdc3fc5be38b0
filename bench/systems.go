package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
)

// Gates in the order a release meets them.
var gates = []string{"review", "approval"}

// system is what the bench drives: foureyes (through the gateway) or the
// floor (plain signals). Both start releases, answer prompts and say which
// activity marks the stage after a gate.
type system interface {
	name() string
	start(ctx context.Context, id string) error
	decide(ctx context.Context, id, gate string) error
	result(ctx context.Context, id string) error
	prompts() *watcher
	// next matches the scheduled activity that starts the stage after gate.
	next(gate string, a *historypb.ActivityTaskScheduledEventAttributes) bool
}

// benchCommit is the commit every bench release builds.
const benchCommit = "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"

// foureyes releases a service to staging: ci-bot signs the review gate and
// erin the approval gate, through the gateway's bot API.
type foureyes struct {
	r       *rig
	signers map[string]string // gate -> identity
}

func newFoureyes(r *rig) *foureyes {
	return &foureyes{r: r, signers: map[string]string{"review": "ci-bot", "approval": "erin"}}
}

func (f *foureyes) name() string      { return "foureyes" }
func (f *foureyes) prompts() *watcher { return f.r.prompts }

// newReleaseID names a release of its own service ("b" and 8 hex digits),
// so that concurrent deploys never replace each other's.
func newReleaseID() string {
	u := uuid.NewString()
	return "release-b" + u[:8] + "-staging-" + u
}

// service is the service of a release named by newReleaseID.
func service(id string) string { return strings.Split(id, "-")[1] }

// start starts a release as `starter start` does (search attributes, memo).
func (f *foureyes) start(ctx context.Context, id string) error {
	req := api.ReleaseRequest{Service: service(id), Environment: "staging", Commit: benchCommit,
		Authors: []string{"alice"}, Requester: "rita", Title: "bench"}
	_, err := f.r.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id,
		TaskQueue: api.QueueOrchestrator, TypedSearchAttributes: api.StartAttributes(req),
		Memo: map[string]any{"service": req.Service, "environment": req.Environment, "title": req.Title}},
		api.WorkflowRelease, req)
	return err
}

// decide posts the gate's decision and wants it accepted.
func (f *foureyes) decide(ctx context.Context, id, gate string) error {
	code, a, err := f.r.DecideOnce(ctx, f.signers[gate], api.DecisionRequest{ReleaseID: id, Gate: gate,
		Verdict: "approve", RequestID: uuid.NewString(), Comment: "bench"})
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("decision answered %d: %s: %s", code, a.Outcome, a.Reason)
	}
	return err
}

func expectAccepted(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("decision answered %s: %s", resp.Status, bytes.TrimSpace(data))
	}
	return nil
}

func (f *foureyes) result(ctx context.Context, id string) error {
	res, err := api.ResultOf(ctx, f.r.Client.GetWorkflow(ctx, id, ""))
	if err != nil {
		return err
	}
	if res.Status != api.StatusDeployed {
		return fmt.Errorf("release %s ended %s: %s", id, res.Status, res.Reason)
	}
	return nil
}

// next: after the review gate the approval prompt (the approve stage's
// activity); after the approval gate the deploy.
func (f *foureyes) next(gate string, a *historypb.ActivityTaskScheduledEventAttributes) bool {
	switch a.GetActivityType().GetName() {
	case api.ActivityDeploy:
		return gate == "approval"
	case api.ActivityNotify:
		var n api.Notification
		// The history holds the payloads as written: encrypted with the
		// stack's key (devstack), so decoded with the stack's converter.
		dc, err := f.r.payloadConverter()
		if err == nil {
			err = dc.FromPayloads(a.GetInput(), &n)
		}
		return gate == "review" && err == nil && n.Kind == api.NotifyPrompt && n.Gate == "approval"
	}
	return false
}

// floor drives FloorRelease with plain SignalWorkflow calls.
type floor struct{ r *rig }

func (f *floor) name() string      { return "floor" }
func (f *floor) prompts() *watcher { return f.r.fprompts }

func (f *floor) start(ctx context.Context, id string) error {
	_, err := f.r.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id,
		TaskQueue: floorQueue("orchestrator")}, floorWorkflow, f.r.cfg.floorUpserts)
	return err
}

func (f *floor) decide(ctx context.Context, id, gate string) error {
	return f.r.Client.SignalWorkflow(ctx, id, "", floorSignal, gate)
}

func (f *floor) result(ctx context.Context, id string) error {
	return f.r.Client.GetWorkflow(ctx, id, "").Get(ctx, nil)
}

func (f *floor) next(gate string, a *historypb.ActivityTaskScheduledEventAttributes) bool {
	switch a.GetActivityType().GetName() {
	case floorDeploy:
		return gate == "approval"
	case floorPrompt:
		var g string
		dc, err := f.r.payloadConverter() // as foureyes.next
		if err == nil {
			err = dc.FromPayloads(a.GetInput(), &g)
		}
		return gate == "review" && err == nil && g == "approval"
	}
	return false
}
