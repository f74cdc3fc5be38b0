package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sethvargo/go-envconfig"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	fconfig "github.com/foureyes/foureyes/config"
)

// The floor: a bare workflow with the same shape as a release (the same
// twelve activities on the same kinds of queues, the same two signals) but
// no policy, no audit chain and no-op activities. Its roles are processes of
// this binary: `bench -role floor-<role>`.
const (
	floorWorkflow     = "FloorRelease"
	floorSignal       = "decision"
	floorStep         = "FloorStep"
	floorPrompt       = "FloorPrompt"
	floorNotify       = "FloorNotify"
	floorDeploy       = "FloorDeploy"
	floorQueuePrefix  = "bench-floor-"
	floorRolePrefix   = "floor-"
	floorPromptFormat = "prompt %s %s\n"
)

var floorRoles = []string{"orchestrator", "build", "review", "approval", "deploy"}

func floorQueue(role string) string { return floorQueuePrefix + role }

func floorOptions(queue string) workflow.ActivityOptions {
	return workflow.ActivityOptions{TaskQueue: queue, StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 5}}
}

// FloorRelease mirrors Release: policy, build, review, then per gate a
// prompt, a signal, a decision and an outcome notice, then deploy, verify
// and a last notice it waits for. With upserts (bench -floor-upserts) it
// also upserts a search attribute in the six workflow tasks where a release
// does, to tell their cost.
func FloorRelease(ctx workflow.Context, upserts bool) error {
	up := func(status string) {
		if upserts {
			_ = workflow.UpsertTypedSearchAttributes(ctx, api.AttrStatus.ValueSet(status))
		}
	}
	up("building")
	for _, role := range []string{"orchestrator", "build", "review"} {
		if err := floorRun(ctx, role, floorStep, "").Get(ctx, nil); err != nil {
			return err
		}
		up(role)
	}
	floorGates(ctx, up)
	for _, act := range []string{floorDeploy, floorStep} {
		if err := floorRun(ctx, "deploy", act, "").Get(ctx, nil); err != nil {
			return err
		}
	}
	return floorRun(ctx, "approval", floorNotify, "").Get(ctx, nil)
}

// floorGates prompts for the review gate, then on each signal sends the two
// notices and the next gate's prompt, as a release does.
func floorGates(ctx workflow.Context, up func(string)) {
	decisions := workflow.GetSignalChannel(ctx, floorSignal)
	floorRun(ctx, "approval", floorPrompt, "review")
	for _, next := range []string{"approval", ""} {
		var gate string
		decisions.Receive(ctx, &gate)
		up(gate)
		floorRun(ctx, "approval", floorNotify, gate)
		floorRun(ctx, "approval", floorNotify, gate)
		if next != "" {
			floorRun(ctx, "approval", floorPrompt, next)
		}
	}
}

func floorRun(ctx workflow.Context, role, act, arg string) workflow.Future {
	actx := workflow.WithActivityOptions(ctx, floorOptions(floorQueue(role)))
	return workflow.ExecuteActivity(actx, act, arg)
}

// floorActivities are no-ops; FloorPrompt prints the prompt line the bench
// waits for, as the approval role's console notifier does.
type floorActivities struct{ out io.Writer }

func (a *floorActivities) FloorStep(context.Context, string) error   { return nil }
func (a *floorActivities) FloorNotify(context.Context, string) error { return nil }
func (a *floorActivities) FloorDeploy(context.Context, string) error { return nil }

func (a *floorActivities) FloorPrompt(ctx context.Context, gate string) error {
	_, err := fmt.Fprintf(a.out, floorPromptFormat, activity.GetInfo(ctx).WorkflowExecution.ID, gate)
	return err
}

// runFloorRole runs one floor role until SIGTERM: TEMPORAL_ADDRESS from the
// environment, SDK default worker options.
func runFloorRole(name string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := floorDial(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "floor %s: %v\n", name, err)
		return 1
	}
	defer c.Close()
	if err := floorWorker(c, name).Run(worker.InterruptCh()); err != nil {
		fmt.Fprintf(os.Stderr, "floor %s: %v\n", name, err)
		return 1
	}
	return 0
}

// floorDial connects as the foureyes roles do (TEMPORAL_* settings: address,
// API key file, CA, compression), SDK logging discarded.
func floorDial(ctx context.Context) (client.Client, error) {
	t, err := fconfig.LoadTemporal(ctx, envconfig.OsLookuper())
	if err != nil {
		return nil, err
	}
	opts, err := t.ClientOptions("foureyes-bench-floor", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	return client.DialContext(ctx, opts)
}

func floorWorker(c client.Client, name string) worker.Worker {
	role := name[len(floorRolePrefix):]
	w := worker.New(c, floorQueue(role), worker.Options{Identity: "bench-" + name})
	if role == "orchestrator" {
		w.RegisterWorkflowWithOptions(FloorRelease, workflow.RegisterOptions{Name: floorWorkflow})
	}
	w.RegisterActivity(&floorActivities{out: os.Stdout})
	return w
}
