package workflows

import (
	"context"

	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/activities"
)

// The workflow calls activities by reference, as samples-go does: method
// values of nil pointers to the role structs. The SDK names each activity
// after its method ("Build", "Deploy", ...), the names the workers register
// (RegisterActivity of each role's struct) and the recorded histories hold;
// TestActivityNames pins them.
var (
	policyRole   *activities.PolicyActivities
	buildRole    *activities.BuildActivities
	reviewRole   *activities.ReviewActivities
	approvalRole *activities.ApprovalActivities
	deployRole   *activities.DeployActivities
)

// call runs one activity with ctx's options and waits for its result.
func call[In, Out any](ctx workflow.Context, activity func(context.Context, In) (Out, error), in In) (Out, error) {
	var out Out
	err := workflow.ExecuteActivity(ctx, activity, in).Get(ctx, &out)
	return out, err
}

// runStage runs one stage's activity on its role's queue in a context that
// a cancel stops; summary is the line the UI shows for it.
func runStage[In, Out any](ctx workflow.Context, h *handles, queue, summary string,
	activity func(context.Context, In) (Out, error), in In) (Out, error) {
	return runStageWith(ctx, h, stageOptions(queue), summary, activity, in)
}

// runStageWith is runStage with the options given.
func runStageWith[In, Out any](ctx workflow.Context, h *handles, opts workflow.ActivityOptions, summary string,
	activity func(context.Context, In) (Out, error), in In) (Out, error) {
	opts.Summary = summary
	sctx, stop := workflow.WithCancel(workflow.WithActivityOptions(ctx, opts))
	h.stopStage = stop
	defer func() { h.stopStage = nil }()
	return call(sctx, activity, in)
}
