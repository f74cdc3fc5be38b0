package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/audit"
)

// view is the release as it is shown: its queries, its current details
// and search attributes (visibility.go), its notices (notify.go), the
// lines the UI shows for its activities. It only reads the release: each
// answer is derived from the state, as of the last recorded step.
type view struct {
	r *release
}

func (v view) registerQueries(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, api.QueryStatus, func() (api.Status, error) {
		return v.statusView(), nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, api.QueryAudit, func() (audit.Trail, error) {
		return audit.Trail{Entries: v.r.trail.chain.Entries()}, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, api.QueryDecision, v.r.gates.outcomeView); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, api.QueryBinding, v.bindingView); err != nil {
		return err
	}
	return workflow.SetQueryHandler(ctx, api.QueryExplain, func() (api.ExplainResult, error) {
		return v.explain(), nil
	})
}

func (v view) statusView() api.Status {
	s := api.Status{
		ReleaseID: v.r.id, Request: v.r.req, Stage: v.r.progress.stage, Status: v.r.progress.status,
		ArtifactRef: v.r.artifact.ArtifactRef, ArtifactDigest: v.r.artifact.Digest,
		PolicyHash: v.r.pin.hash, LastRefusal: v.r.refusals.last,
		Executors: v.r.progress.executors, Result: v.r.result,
		Commit: v.r.src.commit, Authors: v.r.src.authors(), Change: v.r.src.view(),
		Promotes: promotes(v.r.req), Emergency: v.r.urgency.view(),
	}
	if g := v.r.gates.current; g != nil {
		s.Quorum = g.rule.Quorum
		s.Signed = g.signed
		if g.open() {
			s.Deadline = g.deadline
			s.OpenGate = g.name
			s.Awaiting = g.whoMaySign()
		}
	}
	return s
}

func (v view) explain() api.ExplainResult {
	g := v.r.gates.current
	if g == nil || !g.open() {
		return api.ExplainResult{}
	}
	c := g.check(v.r.facts(v.r.trail.now), "")
	return api.ExplainResult{
		Gate: g.name, Quorum: g.rule.Quorum,
		Signed: g.signerIDs(), Identities: v.r.pin.policy.Explain(c),
	}
}

// bindingView answers QueryBinding: what the approval role binds a signed
// decision to (the artifact digest only once its provenance verified).
func (v view) bindingView() (api.Binding, error) {
	b := api.Binding{ReleaseID: v.r.id, PolicyHash: v.r.pin.hash, ArtifactDigest: v.r.artifact.Digest, Signed: true,
		Service: v.r.req.Service, Environment: v.r.req.Environment, RunID: v.r.pin.run, Promotes: promotes(v.r.req)}
	if v.r.gates.current.open() {
		b.OpenGate = v.r.gates.current.name
	}
	return b, nil
}

// promotes is the release q promotes ("" when it builds).
func promotes(q api.ReleaseRequest) string {
	if q.Promotes == nil {
		return ""
	}
	return q.Promotes.Release
}
