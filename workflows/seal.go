package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
)

var sealOptions = workflow.ActivityOptions{
	TaskQueue: api.QueueOrchestrator, StartToCloseTimeout: time.Minute, Summary: "seal the audit trail",
	RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 10},
}

// seal has the orchestrator role sign the head of the finished chain and
// records the signed seal as the last entry: a cut or re-chained export no
// longer ends in a valid seal. A seal that fails is recorded as failed.
func (r *release) seal(ctx workflow.Context, status string) {
	in := api.SealInput{ReleaseID: r.id, PolicyHash: r.pin.hash, Head: r.trail.chain.Head(),
		Entries: len(r.trail.chain.Links), Status: status}
	res, err := call(workflow.WithActivityOptions(ctx, sealOptions), policyRole.Seal, in)
	var s attest.Seal
	if err == nil {
		err = r.pin.fact(res.Seal, attest.RoleOrchestrator, attest.PredicateSeal,
			attest.SealSubject(r.id, in.Head), &s, func() attest.Binding { return s.Binding })
	}
	if err == nil && (s.Head != in.Head || s.Entries != in.Entries) {
		err = fmt.Errorf("seal covers %d entries up to %s, not %d up to %s", s.Entries, s.Head, in.Entries, in.Head)
	}
	e := audit.Entry{Type: audit.EventSealed, Stage: r.progress.stage, Executor: s.Sealer, Outcome: "ok",
		Envelope: json.RawMessage(res.Seal), Detail: fmt.Sprintf("%d entries sealed by the orchestrator role, head %s", in.Entries, in.Head)}
	if err != nil {
		e.Outcome, e.Envelope, e.Executor = "failed", nil, ""
		e.Detail = "seal failed: " + rootMessage(err)
	}
	r.record(ctx, e)
}
