package workflows

import (
	"fmt"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
)

// verifyBuild accepts a build result only with the build role's provenance
// for this release, policy and commit; the artifact and its builder are
// then taken from the signed statement, not from the result.
func (r *release) verifyBuild(res api.BuildResult) (api.BuildResult, error) {
	var p attest.Provenance
	ext := &p.BuildDefinition.ExternalParameters
	err := r.verifyFact(res.Provenance, attest.RoleBuild, attest.PredicateProvenance,
		attest.ArtifactSubject(res.Digest), &p, func() attest.Binding { return ext.Binding })
	switch {
	case err != nil:
		return res, err
	case ext.Service != r.req.Service || ext.Environment != r.req.Environment:
		return res, fmt.Errorf("provenance is for %s to %s at %s, not this release's", ext.Service, ext.Environment, ext.Commit)
	case !r.src.enabled && ext.Commit != r.req.Commit:
		return res, fmt.Errorf("provenance is for %s to %s at %s, not this release's", ext.Service, ext.Environment, ext.Commit)
	case p.RunDetails.Builder.ID == "":
		return res, fmt.Errorf("provenance names no builder")
	}
	if r.src.enabled {
		if err := r.verifySource(*ext); err != nil {
			return res, err
		}
	}
	return api.BuildResult{ArtifactRef: ext.ArtifactRef, Digest: res.Digest, Commit: ext.Commit,
		Executor: p.RunDetails.Builder.ID, Output: res.Output, Provenance: res.Provenance}, nil
}

// verifyReview accepts the review role's signed verdict on this artifact only.
func (r *release) verifyReview(res api.ReviewResult) (api.ReviewResult, error) {
	var v attest.Review
	err := r.verifyFact(res.Attestation, attest.RoleReview, attest.PredicateReview,
		attest.ArtifactSubject(r.artifact.Digest), &v, func() attest.Binding { return v.Binding })
	switch {
	case err != nil:
		return res, err
	case v.Commit != r.commitSHA():
		return res, fmt.Errorf("review verdict is for commit %s, not %s", v.Commit, r.commitSHA())
	case v.Reviewer == "":
		return res, fmt.Errorf("review verdict names no reviewer")
	}
	return api.ReviewResult{Passed: v.Passed, Findings: v.Findings, Executor: v.Reviewer,
		Attestation: res.Attestation}, nil
}

// verifyReceipt accepts a deploy, verify or rollback result only with the
// deploy role's receipt for that step of this release.
func (r *release) verifyReceipt(res api.StepResult, step string) (api.StepResult, error) {
	var rc attest.Receipt
	err := r.verifyFact(res.Receipt, attest.RoleDeploy, attest.PredicateDeploy,
		attest.ArtifactSubject(r.artifact.Digest), &rc, func() attest.Binding { return rc.Binding })
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

// verifyDecision reads a decision only from an approval-role statement about
// this release's artifact under its pinned policy.
func (r *release) verifyDecision(env attest.Envelope) (api.Decision, error) {
	var d attest.Decision
	if r.artifact.Digest == "" {
		return api.Decision{}, fmt.Errorf("no gate is open before the artifact is attested")
	}
	if r.scoped() {
		d, err := r.judging().Decision(r.judged(), env)
		return api.Decision{RequestID: d.RequestID, Gate: d.Gate, Verdict: d.Verdict, Identity: d.Identity,
			Channel: d.Channel, Comment: d.Comment}, err
	}
	err := r.verifyFact(env, attest.RoleApproval, attest.PredicateDecision,
		attest.ArtifactSubject(r.artifact.Digest), &d, func() attest.Binding { return d.Binding })
	if err == nil && d.RequestID == "" {
		err = fmt.Errorf("decision statement without a request id")
	}
	return api.Decision{RequestID: d.RequestID, Gate: d.Gate, Verdict: d.Verdict, Identity: d.Identity,
		Channel: d.Channel, Comment: d.Comment}, err
}

// verifyCancel reads a cancel only from an approval-role statement about this release.
func (r *release) verifyCancel(env attest.Envelope) (api.CancelRequest, error) {
	var c attest.Cancel
	if r.scoped() {
		c, err := r.judging().Cancel(r.judged(), env)
		return api.CancelRequest{RequestID: c.RequestID, Identity: c.Identity, Channel: c.Channel, Reason: c.Reason}, err
	}
	err := r.verifyFact(env, attest.RoleApproval, attest.PredicateCancel,
		attest.ReleaseSubject(r.id), &c, func() attest.Binding { return c.Binding })
	if err == nil && (c.RequestID == "" || c.Identity == "") {
		err = fmt.Errorf("cancel statement without request id or identity")
	}
	return api.CancelRequest{RequestID: c.RequestID, Identity: c.Identity, Channel: c.Channel, Reason: c.Reason}, err
}
