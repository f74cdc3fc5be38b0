package judge

import (
	"errors"
	"fmt"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
)

// One function per kind of signed fact: each verifies the signature of the
// role that owns the fact, what it is about, the release, policy and scope
// it is bound to, and what it must say to count.

// Provenance is the build role's provenance of rel's artifact: built for
// rel (or, for a promotion, for the promoted release in the environment
// rel's promotion rule names, under that release's policy).
func (j *Judge) Provenance(rel Release, env attest.Envelope) (attest.Provenance, error) {
	var p attest.Provenance
	ext := &p.BuildDefinition.ExternalParameters
	want, builtFor, err := j.provenanceTarget(rel)
	if err != nil {
		return p, err
	}
	bound := func() attest.Binding { return ext.Binding }
	if rel.Promotes != "" { // the promoted release's, under the policy of its day
		bound = func() attest.Binding { return attest.Binding{Release: ext.Release, PolicySHA256: want.PolicySHA256} }
	}
	if _, err := j.Fact(env, attest.RoleBuild, attest.PredicateProvenance, attest.ArtifactSubject(rel.Digest), &p, bound, want); err != nil {
		return p, fmt.Errorf("build provenance: %w", err)
	}
	switch {
	case p.BuildDefinition.BuildType != attest.BuildType:
		return p, fmt.Errorf("build provenance: build type %q, not %q", p.BuildDefinition.BuildType, attest.BuildType)
	case ext.Service != rel.Service || ext.Environment != builtFor || ext.Commit != rel.Commit:
		return p, fmt.Errorf("build provenance: built %s for %s at %s, not %s for %s at %s",
			ext.Service, ext.Environment, ext.Commit, rel.Service, builtFor, rel.Commit)
	case p.RunDetails.Builder.ID == "":
		return p, errors.New("build provenance: names no builder")
	}
	return p, nil
}

// provenanceTarget is the binding a provenance must carry and the
// environment it was built for. A release never promotes itself.
func (j *Judge) provenanceTarget(rel Release) (attest.Binding, string, error) {
	if rel.Promotes == "" {
		return rel.Binding(), rel.Environment, nil
	}
	req, ok := j.Policy.Requirement(rel.Environment)
	switch {
	case rel.Promotes == rel.ID:
		return attest.Binding{}, "", fmt.Errorf("release %s names itself as the release it promotes", rel.ID)
	case !ok:
		return attest.Binding{}, "", fmt.Errorf("release promotes %s, but environment %s has no promotion rule (requires)", rel.Promotes, rel.Environment)
	}
	return attest.Binding{Release: rel.Promotes, PolicySHA256: rel.PolicyHash}, req.Environment, nil
}

// Review is the review role's verdict on rel's artifact and commit.
func (j *Judge) Review(rel Release, env attest.Envelope) (attest.Review, error) {
	var r attest.Review
	_, err := j.Fact(env, attest.RoleReview, attest.PredicateReview, attest.ArtifactSubject(rel.Digest), &r,
		func() attest.Binding { return r.Binding }, rel.Binding())
	switch {
	case err != nil:
		return r, fmt.Errorf("review verdict: %w", err)
	case r.Commit != rel.Commit:
		return r, fmt.Errorf("review verdict: reviewed commit %s, not %s", r.Commit, rel.Commit)
	case r.Reviewer == "":
		return r, errors.New("review verdict: names no reviewer")
	}
	return r, nil
}

// Decision is one decision the approval role authenticated for rel's
// artifact, scoped to rel's service, environment and run.
func (j *Judge) Decision(rel Release, env attest.Envelope) (attest.Decision, error) {
	var d attest.Decision
	_, err := j.Fact(env, attest.RoleApproval, attest.PredicateDecision, attest.ArtifactSubject(rel.Digest), &d,
		func() attest.Binding { return d.Binding }, rel.Binding())
	if err == nil {
		err = d.Scope.CheckScope(rel.Scope())
	}
	if err == nil && d.RequestID == "" {
		err = errors.New("decision statement without a request id")
	}
	if err == nil {
		err = j.ownDecision(rel, d)
	}
	return d, err
}

// Cancel is one cancel the approval role authenticated for rel's run.
func (j *Judge) Cancel(rel Release, env attest.Envelope) (attest.Cancel, error) {
	var c attest.Cancel
	_, err := j.Fact(env, attest.RoleApproval, attest.PredicateCancel, attest.ReleaseSubject(rel.ID), &c,
		func() attest.Binding { return c.Binding }, rel.Binding())
	if err == nil {
		err = c.Scope.CheckScope(rel.Scope())
	}
	if err == nil && (c.RequestID == "" || c.Identity == "") {
		err = errors.New("cancel statement without request id or identity")
	}
	return c, err
}

// Emergency is a release manager's break-glass declaration of rel, scoped
// to its service and environment (it precedes the run), where the policy
// allows emergencies.
func (j *Judge) Emergency(rel Release, env attest.Envelope) (attest.Emergency, error) {
	var e attest.Emergency
	_, err := j.Fact(env, attest.RoleApproval, attest.PredicateEmergency, attest.ReleaseSubject(rel.ID), &e,
		func() attest.Binding { return e.Binding }, rel.Binding())
	if err == nil {
		err = e.Scope.CheckScope(attest.Scope{Service: rel.Service, Environment: rel.Environment})
	}
	if err == nil {
		err = j.Policy.CheckEmergency(rel.Environment, e)
	}
	return e, err
}

// Receipt is the deploy role's receipt of step for rel's artifact, from
// rel's run when rel names one.
func (j *Judge) Receipt(rel Release, env attest.Envelope, step string) (attest.Receipt, error) {
	var rc attest.Receipt
	_, err := j.Fact(env, attest.RoleDeploy, attest.PredicateDeploy, attest.ArtifactSubject(rel.Digest), &rc,
		func() attest.Binding { return rc.Binding }, rel.Binding())
	switch {
	case err != nil:
		return rc, err
	case rc.Step != step:
		return rc, fmt.Errorf("a %s receipt where a %s receipt was expected", rc.Step, step)
	case rc.Deployer == "":
		return rc, errors.New("receipt names no deployer")
	case rc.Service != rel.Service || rc.Environment != rel.Environment:
		return rc, fmt.Errorf("a receipt for %s in %s, not %s in %s", rc.Service, rc.Environment, rel.Service, rel.Environment)
	case rel.RunID != "" && rc.RunID != rel.RunID:
		return rc, fmt.Errorf("a receipt from run %q, not %q", rc.RunID, rel.RunID)
	}
	return rc, nil
}

// VerifyFailed is the deploy role's own signed receipt that rel's verify
// step failed: the one thing that permits a rollback.
func (j *Judge) VerifyFailed(rel Release, env attest.Envelope) error {
	rc, err := j.Receipt(rel, env, attest.StepVerify)
	switch {
	case err != nil:
		return fmt.Errorf("no signed receipt of a failed verify of release %s: %w", rel.ID, err)
	case rc.OK:
		return fmt.Errorf("the verify receipt of release %s says it passed: nothing to roll back", rel.ID)
	}
	return nil
}

// Deployed is the deploy role's statement of what runs of service in
// environment, asked for by rel.
func (j *Judge) Deployed(rel Release, env attest.Envelope, service, environment string) (attest.DeployedState, error) {
	var st attest.DeployedState
	_, err := j.Fact(env, attest.RoleDeploy, attest.PredicateDeployed, attest.DeploymentSubject(service, environment), &st,
		func() attest.Binding { return st.Binding }, rel.Binding())
	switch {
	case err != nil:
		return st, err
	case st.Service != service || st.Environment != environment:
		return st, fmt.Errorf("the deploy role's statement is about %s in %s", st.Service, st.Environment)
	case st.Commit != "" && !api.ValidCommit(st.Commit):
		return st, fmt.Errorf("the deploy role's statement names %q as deployed, not a commit", st.Commit)
	}
	return st, nil
}
