package workflows

import (
	"fmt"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/judge"
)

// What the roles answer counts only as their signed statements say: the
// pin verifies each under its keys, bound to the release as the judge
// knows it (rel).

// judged is this release as the judge knows it.
func (v view) judged() judge.Release {
	r := v.r
	return judge.Release{ID: r.id, RunID: r.pin.run, Service: r.req.Service, Environment: r.req.Environment,
		Commit: r.src.commitSHA(), Digest: r.artifact.Digest, PolicyHash: r.pin.hash, Promotes: promotes(r.req)}
}

// verifyBuild accepts a build result only with the build role's provenance
// for this release, policy and source; the artifact and its builder are
// then taken from the signed statement, not from the result.
func (pn *pin) verifyBuild(res api.BuildResult, rel judge.Release, src *source) (api.BuildResult, error) {
	var p attest.Provenance
	ext := &p.BuildDefinition.ExternalParameters
	err := pn.fact(res.Provenance, attest.RoleBuild, attest.PredicateProvenance,
		attest.ArtifactSubject(res.Digest), &p, func() attest.Binding { return ext.Binding })
	switch {
	case err != nil:
		return res, err
	case ext.Service != rel.Service || ext.Environment != rel.Environment:
		return res, fmt.Errorf("provenance is for %s to %s at %s, not this release's", ext.Service, ext.Environment, ext.Commit)
	case p.RunDetails.Builder.ID == "":
		return res, fmt.Errorf("provenance names no builder")
	}
	if err := src.verify(*ext, &pn.policy); err != nil {
		return res, err
	}
	return api.BuildResult{ArtifactRef: ext.ArtifactRef, Digest: res.Digest, Commit: ext.Commit,
		Executor: p.RunDetails.Builder.ID, Output: res.Output, Provenance: res.Provenance}, nil
}

// verifyReview accepts the review role's signed verdict on this artifact only.
func (pn *pin) verifyReview(res api.ReviewResult, rel judge.Release) (api.ReviewResult, error) {
	var v attest.Review
	err := pn.fact(res.Attestation, attest.RoleReview, attest.PredicateReview,
		attest.ArtifactSubject(rel.Digest), &v, func() attest.Binding { return v.Binding })
	switch {
	case err != nil:
		return res, err
	case v.Commit != rel.Commit:
		return res, fmt.Errorf("review verdict is for commit %s, not %s", v.Commit, rel.Commit)
	case v.Reviewer == "":
		return res, fmt.Errorf("review verdict names no reviewer")
	}
	return api.ReviewResult{Passed: v.Passed, Findings: v.Findings, Executor: v.Reviewer,
		Attestation: res.Attestation}, nil
}

// verifyReceipt accepts a deploy, verify or rollback result only with the
// deploy role's receipt for that step of this release.
func (pn *pin) verifyReceipt(res api.StepResult, rel judge.Release, step string) (api.StepResult, error) {
	var rc attest.Receipt
	err := pn.fact(res.Receipt, attest.RoleDeploy, attest.PredicateDeploy,
		attest.ArtifactSubject(rel.Digest), &rc, func() attest.Binding { return rc.Binding })
	switch {
	case err != nil:
		return api.StepResult{}, err
	case rc.Step != step:
		return api.StepResult{}, fmt.Errorf("a %s receipt where a %s receipt was expected", rc.Step, step)
	case rc.Deployer == "":
		return api.StepResult{}, fmt.Errorf("receipt names no deployer")
	}
	return api.StepResult{OK: rc.OK, Output: rc.Output, Executor: rc.Deployer, Receipt: res.Receipt}, nil
}

// verifyDecision reads a decision only from an approval-role statement
// scoped to this release (the judge).
func (pn *pin) verifyDecision(env attest.Envelope, rel judge.Release) (api.Decision, error) {
	if rel.Digest == "" {
		return api.Decision{}, fmt.Errorf("no gate is open before the artifact is attested")
	}
	d, err := pn.judge().Decision(rel, env)
	return api.Decision{RequestID: d.RequestID, Gate: d.Gate, Verdict: d.Verdict, Identity: d.Identity,
		Channel: d.Channel, Comment: d.Comment}, err
}

// verifyCancel reads a cancel only from an approval-role statement scoped
// to this release (the judge).
func (pn *pin) verifyCancel(env attest.Envelope, rel judge.Release) (api.CancelRequest, error) {
	c, err := pn.judge().Cancel(rel, env)
	return api.CancelRequest{RequestID: c.RequestID, Identity: c.Identity, Channel: c.Channel, Reason: c.Reason}, err
}
