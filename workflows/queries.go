package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/audit"
)

// The release's queries: each answers from the state, at the time of the
// last recorded step.

func (r *release) registerQueries(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, api.QueryStatus, func() (api.Status, error) {
		return r.statusView(), nil
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
	if err := workflow.SetQueryHandler(ctx, api.QueryBinding, r.bindingView); err != nil {
		return err
	}
	return workflow.SetQueryHandler(ctx, api.QueryExplain, func() (api.ExplainResult, error) {
		return r.explain(), nil
	})
}

func (r *release) statusView() api.Status {
	s := api.Status{
		ReleaseID: r.id, Request: r.req, Stage: r.progress.stage, Status: r.progress.status,
		ArtifactRef: r.artifact.ArtifactRef, ArtifactDigest: r.artifact.Digest,
		PolicyHash: r.pin.hash, LastRefusal: r.refusals.last,
		Executors: r.progress.executors, Result: r.result,
		Commit: r.src.commit, Authors: r.src.authors(), Change: r.src.view(),
		Promotes: r.promotes(), Emergency: r.urgency.view(),
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

func (r *release) explain() api.ExplainResult {
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
func (r *release) bindingView() (api.Binding, error) {
	b := api.Binding{ReleaseID: r.id, PolicyHash: r.pin.hash, ArtifactDigest: r.artifact.Digest, Signed: true,
		Service: r.req.Service, Environment: r.req.Environment, RunID: r.pin.run, Promotes: r.promotes()}
	if r.gates.current.open() {
		b.OpenGate = r.gates.current.name
	}
	return b, nil
}

// promotes is the release this one promotes ("" when it builds).
func (r *release) promotes() string {
	if r.req.Promotes == nil {
		return ""
	}
	return r.req.Promotes.Release
}
