package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/judge"
	"github.com/foureyes/foureyes/policy"
)

// source is the release's change: the ref it asked for and the authors it
// declared, then what the deploy role said is deployed and what the build
// role's provenance attested (the commit, the change since, its authors).
type source struct {
	ref      string   // as requested: a SHA, short SHA, tag or branch
	declared []string // authors the request declared
	listed   bool     // the policy names the service's repository
	repo     string   // as the policy names it
	base     attest.DeployedState
	commit   string         // the full SHA the build resolved and attested
	change   *attest.Change // attested by the build role
	mapped   []string       // identities of the change's emails (mapped here and attested)
	unmapped []string       // emails of the change nobody has
}

// check checks the request against the service's entry: a repository takes
// any SHA, tag or branch; a service without one only where the environment
// allows it, with a full SHA and declared authors.
func (s *source) check(pol *policy.Policy, service, env string) string {
	svc, listed := pol.Service(service)
	s.listed, s.repo = listed, svc.Repository
	switch {
	case listed && !api.ValidRevision(s.ref):
		return fmt.Sprintf("commit %q is not a commit SHA (full or short), a tag or a branch", s.ref)
	case listed:
		return ""
	case !pol.AllowsNoRepository(env):
		return fmt.Sprintf("service %s has no repository in the policy, and environment %s refuses services "+
			"without one (services_without_repository; fail closed)", service, env)
	case !api.ValidCommit(s.ref):
		return fmt.Sprintf("service %s has no repository to resolve %q in: give the full 40-hex commit", service, s.ref)
	case len(s.declared) == 0:
		return fmt.Sprintf("the change has no author (service %s has no repository to read them from)", service)
	}
	return ""
}

// verify checks the provenance's account of the source: the requested ref,
// resolved to a full SHA, from the policy's repository, with the change
// starting at the commit the deploy role said is deployed; then takes it.
func (s *source) verify(ext attest.BuildParameters, pol *policy.Policy) error {
	switch {
	case !s.listed:
		if ext.Repository != "" || ext.Commit != s.ref {
			return fmt.Errorf("provenance is for %s from %q, not %s without a repository", ext.Commit, ext.Repository, s.ref)
		}
		return nil
	case ext.Ref != s.ref:
		return fmt.Errorf("provenance is for %q, not the requested %q", ext.Ref, s.ref)
	case !api.ValidCommit(ext.Commit) || (api.ValidCommit(s.ref) && ext.Commit != s.ref):
		return fmt.Errorf("provenance resolved %q to %q", s.ref, ext.Commit)
	case ext.Repository != s.repo:
		return fmt.Errorf("provenance is for repository %q, not the policy's %q", ext.Repository, s.repo)
	case ext.Change == nil || len(ext.Change.Commits) == 0:
		return errors.New("provenance reads no change from git")
	case ext.Change.Base != s.base.Commit:
		return fmt.Errorf("the change starts at %q, but the deploy role said %q is deployed", ext.Change.Base, s.base.Commit)
	}
	s.commit = ext.Commit
	s.take(ext.Change, pol)
	return nil
}

// adopt takes a promoted change, which must start at or contain what the
// deploy role said is deployed in env, or its authors are not known.
func (s *source) adopt(c *attest.Change, pol *policy.Policy, env string) error {
	base := s.base.Commit
	if c == nil || (base != c.Base && !c.Contains(base)) {
		return fmt.Errorf("%s runs %s, which the promoted change (since %q) does not cover: its authors are not known; "+
			"release the commit to %s again", env, base, changeBase(c), env)
	}
	s.take(c, pol)
	return nil
}

// take keeps an attested change and maps its emails to identities.
func (s *source) take(c *attest.Change, pol *policy.Policy) {
	s.change = c
	ids, unmapped := pol.MapEmails(c.Emails)
	s.mapped = policy.Union(ids, c.Identities)
	s.unmapped = policy.Union(unmapped, c.Unmapped)
}

// allowed judges a promoted change by this environment's rules, as the
// build role judged it by its own: signed commits where the policy says
// so, and someone left to sign each gate.
func (s *source) allowed(pol *policy.Policy, service, env, requester string) error {
	if pol.CommitsMustBeSigned(service, env) {
		if err := judge.AllSigned(s.change, service, env); err != nil {
			return err
		}
	}
	return pol.ApproversLeft(env, s.authors(), requester)
}

func changeBase(c *attest.Change) string {
	if c == nil {
		return "no change"
	}
	return c.Base
}

// commitSHA is the commit the release deploys: the one the build resolved,
// else (before the build) the one requested.
func (s *source) commitSHA() string {
	if s.commit != "" {
		return s.commit
	}
	return s.ref
}

// authors are the declared authors and those the change's commits name.
func (s *source) authors() []string {
	if len(s.mapped) == 0 {
		return s.declared
	}
	return policy.Union(s.declared, s.mapped)
}

// signers are the authors whose commits count as theirs under pol (signed
// commits where the policy asks for them).
func (s *source) signers(pol *policy.Policy) []string {
	return judge.SignedOnly(pol, s.change, s.declared)
}

// askDeployed asks the deploy role, before the build, what is deployed to
// the service and environment, and verifies its signed answer: the build
// role starts the change there.
func (r *release) askDeployed(ctx workflow.Context) (attest.Envelope, error) {
	svc, env := r.req.Service, r.req.Environment
	opts := deployedOptions(fmt.Sprintf("code: what is deployed to %s in %s", svc, env))
	res, err := call(workflow.WithActivityOptions(ctx, opts), deployRole.Deployed,
		api.DeployedInput{ReleaseID: r.id, Service: svc, Environment: env, PolicyHash: r.pin.hash})
	if err != nil {
		return nil, fmt.Errorf("what is deployed to %s in %s could not be asked: %w", svc, env, err)
	}
	st := &r.src.base
	err = r.pin.fact(res.Statement, attest.RoleDeploy, attest.PredicateDeployed,
		attest.DeploymentSubject(svc, env), st, func() attest.Binding { return st.Binding })
	if err == nil && (st.Service != svc || st.Environment != env) {
		err = fmt.Errorf("it is about %s in %s", st.Service, st.Environment)
	}
	if err != nil {
		return nil, errors.New("the deploy role's statement of what is deployed refused (fail closed): " + err.Error())
	}
	return res.Statement, nil
}
