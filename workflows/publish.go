package workflows

import "go.temporal.io/sdk/workflow"

// Version 2 of versionSearchAttributes publishes the release's state (current
// details, search attributes) once per workflow task instead of at every
// audit entry: a gate decision used to upsert the search attributes up to
// three times in one task, each upsert an event and a visibility write on
// the server (docs/benchmarks.md). Releases recorded with version 1 replay
// as they ran.

// publish makes the state visible now (version 1) or marks it to be
// published when the workflow task's other work is done (version 2).
func (r *release) publish(ctx workflow.Context) {
	if !r.batched {
		r.publishNow(ctx)
		return
	}
	r.dirty = true
}

// startPublisher runs, with batching, a coroutine that publishes whenever
// the state changed, after the coroutines that changed it have blocked. It
// is disconnected from cancellation: the last state is always published.
func (r *release) startPublisher(ctx workflow.Context) {
	if !r.batched {
		return
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	workflow.Go(dctx, func(ctx workflow.Context) {
		for workflow.Await(ctx, func() bool { return r.dirty }) == nil {
			r.dirty = false
			r.publishNow(ctx)
		}
	})
}
