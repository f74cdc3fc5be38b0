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
	r := v.r
	if err := workflow.SetQueryHandler(ctx, api.QueryStatus, func() (api.Status, error) {
		return v.statusView(), nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, api.QueryAudit, func() (audit.Trail, error) {
		return audit.Trail{Entries: r.trail.chain.Entries()}, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, api.QueryDecision, r.gates.outcomeView); err != nil {
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
	r := v.r
	s := api.Status{
		ReleaseID: r.id, Request: r.req, Stage: r.progress.stage, Status: r.progress.status,
		ArtifactRef: r.artifact.ArtifactRef, ArtifactDigest: r.artifact.Digest,
		PolicyHash: r.pin.hash, LastRefusal: r.refusals.last,
		Executors: r.progress.executors, Result: r.result,
		Commit: r.src.commit, Authors: r.src.authors(), Change: r.src.view(),
		Promotes: promotes(r.req), Emergency: r.emergency.view(),
	}
	if g := r.gates.current; g != nil {
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
	r := v.r
	g := r.gates.current
	if g == nil || !g.open() {
		return api.ExplainResult{}
	}
	c := g.check(r.facts(r.trail.now), "")
	return api.ExplainResult{
		Gate: g.name, Quorum: g.rule.Quorum,
		Signed: g.signerIDs(), Identities: r.pin.policy.Explain(c),
	}
}

// bindingView answers QueryBinding: what the approval role binds a signed
// decision to (the artifact digest only once its provenance verified).
func (v view) bindingView() (api.Binding, error) {
	r := v.r
	b := api.Binding{ReleaseID: r.id, PolicyHash: r.pin.hash, ArtifactDigest: r.artifact.Digest, Signed: true,
		Service: r.req.Service, Environment: r.req.Environment, RunID: r.pin.run, Promotes: promotes(r.req)}
	if r.gates.current.open() {
		b.OpenGate = r.gates.current.name
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
