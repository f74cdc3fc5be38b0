package workflows

import "go.temporal.io/sdk/workflow"

// publish makes the state visible now (versionVisible) or marks it to be
// published when the workflow task's other work is done
// (versionBatchedPublish).
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
