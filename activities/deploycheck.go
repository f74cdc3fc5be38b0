package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// checkAllowed is the deploy role's own judgement of a deploy. Anything
// that reaches its task queue may ask (a rogue workflow, a compromised
// orchestrator), so it trusts only what the build, review and approval roles
// signed, judged by its own copy of the policy at its own clock. A refusal
// names the rule that failed and is logged with the release id.
func (a *DeployActivities) checkAllowed(ctx context.Context, in api.DeployInput) error {
	err := a.checkBundle(in, time.Now())
	if err == nil {
		return nil
	}
	if activity.IsActivity(ctx) {
		activity.GetLogger(ctx).Warn("deploy refused", "release_id", in.ReleaseID, "reason", err.Error())
	}
	return temporal.NewNonRetryableApplicationError("deploy refused: "+err.Error(), api.ErrTypeDeployRefused, nil)
}

// checkBundle verifies every fact of the bundle, replays the gates in order
// and checks the freeze windows at now.
func (a *DeployActivities) checkBundle(in api.DeployInput, now time.Time) error {
	if in.Bundle == nil {
		return errors.New("no bundle: nothing signed vouches for this release")
	}
	l, err := a.deployPolicy(in.PolicyHash)
	if err != nil {
		return err
	}
	cur, err := readState(a.statePath(in))
	if err != nil {
		return err
	}
	c := &bundleCheck{pol: l.pol, ring: l.ring, in: in, subject: attest.ArtifactSubject(in.Digest),
		bind: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash}, deployed: cur}
	for _, step := range []func() error{c.provenance, c.source, c.review, c.emergency, c.decisions, c.gates} {
		if err := step(); err != nil {
			return err
		}
	}
	if err := c.freeze(now); err != nil {
		return err
	}
	return a.promotion(c, now)
}

// deployPolicy is the deploy role's own policy, which must be the very
// policy the release pinned. It is read on every deploy (it may change) and
// parsed once per content.
func (a *DeployActivities) deployPolicy(want string) (*loadedPolicy, error) {
	if a.PolicyFile == "" {
		return nil, errors.New("the deploy role has no policy of its own (FOUREYES_DEPLOY_POLICY_FILE)")
	}
	l, err := a.policies.load(a.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("the deploy role's policy: %w", err)
	}
	if l.hash != want {
		return nil, fmt.Errorf("the release pinned policy sha256:%s, but the deploy role's policy %s is sha256:%s",
			want, a.PolicyFile, l.hash)
	}
	return l, nil
}

// bundleCheck is one deploy's bundle under verification; each step fills
// in what the later ones rely on.
type bundleCheck struct {
	pol     *policy.Policy
	ring    attest.KeyRing
	in      api.DeployInput
	bind    attest.Binding
	subject attest.Subject
	prov    attest.Provenance
	rev     attest.Review
	decided []attest.Decision
	// deployed is the role's record of what is deployed now (nil: nothing).
	deployed *deployState
	// authors and unmapped come from the attested change, mapped by this
	// role's own policy.
	authors, unmapped []string
	// declared is the verified break-glass declaration (nil: none).
	declared *attest.Emergency
}

// fact verifies env as role's statement of predicateType about this
// artifact, bound to this release and policy, and decodes it into pred.
func (c *bundleCheck) fact(what string, env attest.Envelope, role, predicateType string, pred any, bound func() attest.Binding) error {
	f, err := c.ring.Verify(env, role, predicateType)
	if err == nil {
		err = f.CheckSubject(c.subject)
	}
	if err == nil {
		err = f.Decode(pred)
	}
	if err == nil {
		err = bound().Check(c.bind)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// provenance: the build role built this commit of this service for this
// environment; its authors, requester and builder feed the gate rules.
func (c *bundleCheck) provenance() error {
	p := &c.prov.BuildDefinition.ExternalParameters
	bound, builtFor := func() attest.Binding { return p.Binding }, c.in.Environment
	if c.in.Promotes != "" {
		var err error
		if bound, builtFor, err = c.promotedProvenance(); err != nil {
			return err
		}
	}
	if err := c.fact("build provenance", c.in.Bundle.Provenance, attest.RoleBuild, attest.PredicateProvenance,
		&c.prov, bound); err != nil {
		return err
	}
	switch {
	case c.prov.BuildDefinition.BuildType != attest.BuildType:
		return fmt.Errorf("build provenance: build type %q, not %q", c.prov.BuildDefinition.BuildType, attest.BuildType)
	case p.Service != c.in.Service || p.Environment != builtFor || p.Commit != c.in.Commit:
		return fmt.Errorf("build provenance: built %s for %s at %s, not %s for %s at %s",
			p.Service, p.Environment, p.Commit, c.in.Service, builtFor, c.in.Commit)
	case c.prov.RunDetails.Builder.ID == "":
		return errors.New("build provenance: names no builder")
	}
	return nil
}

// source: a service the policy names a repository for was built from that
// repository, with the change's authors read from git and attested; the
// change starts at what is deployed now (or covers it: a commit deployed
// since the build is one of the change's), else its authors could miss
// someone's commits. A service without a repository only where the
// environment allows it, its authors only those declared.
func (c *bundleCheck) source() error {
	p := c.prov.BuildDefinition.ExternalParameters
	env, svc := c.in.Environment, c.in.Service
	c.authors = p.Authors
	repo, listed := c.pol.Service(svc)
	switch {
	case !listed && p.Repository != "":
		return fmt.Errorf("build provenance: built from %s, but the deploy role's policy names no repository for %s", p.Repository, svc)
	case !listed && !c.pol.AllowsNoRepository(env):
		return fmt.Errorf("service %s has no repository in the policy, and environment %s refuses services without one", svc, env)
	case !listed:
		return nil
	case p.Repository != repo.Repository:
		return fmt.Errorf("build provenance: built from %q, but the policy's repository of %s is %q", p.Repository, svc, repo.Repository)
	case p.Change == nil:
		return fmt.Errorf("build provenance: no change read from git for %s (its authors are unknown)", svc)
	}
	if d := c.deployed; d != nil && d.Commit != p.Change.Base && !p.Change.Contains(d.Commit) {
		return fmt.Errorf("the change was read from %s, but %s is deployed to %s/%s now (release %s) and is not part of it: "+
			"its authors are not known; start a new release", orNothing(p.Change.Base), d.Commit, env, svc, d.ReleaseID)
	}
	ids, unmapped := c.pol.MapEmails(p.Change.Emails)
	c.authors = policy.Union(c.authors, ids, p.Change.Identities)
	c.unmapped = policy.Union(unmapped, p.Change.Unmapped)
	return nil
}

func orNothing(commit string) string {
	if commit == "" {
		return "nothing deployed"
	}
	return commit
}

// review: the review role passed this artifact of this commit.
func (c *bundleCheck) review() error {
	r := &c.rev
	if err := c.fact("review verdict", c.in.Bundle.Review, attest.RoleReview, attest.PredicateReview,
		r, func() attest.Binding { return r.Binding }); err != nil {
		return err
	}
	switch {
	case r.Commit != c.in.Commit:
		return fmt.Errorf("review verdict: reviewed commit %s, not %s", r.Commit, c.in.Commit)
	case !r.Passed:
		return fmt.Errorf("review verdict: the automated review failed (%d findings)", len(r.Findings))
	case r.Reviewer == "":
		return errors.New("review verdict: names no reviewer")
	}
	return nil
}

// decisions: each was authenticated and signed by the approval role for
// this release and artifact, approves a gate, under a request id of its own.
func (c *bundleCheck) decisions() error {
	seen := map[string]bool{}
	for i, env := range c.in.Bundle.Decisions {
		what := fmt.Sprintf("decision %d", i+1)
		var d attest.Decision
		if err := c.fact(what, env, attest.RoleApproval, attest.PredicateDecision,
			&d, func() attest.Binding { return d.Binding }); err != nil {
			return err
		}
		if err := decisionShape(what, d, seen); err != nil {
			return err
		}
		c.decided = append(c.decided, d)
	}
	return nil
}

func decisionShape(what string, d attest.Decision, seen map[string]bool) error {
	switch {
	case !slices.Contains(policy.Gates, d.Gate):
		return fmt.Errorf("%s: gate %q is not a gate of a release", what, d.Gate)
	case d.Verdict != api.VerdictApprove:
		return fmt.Errorf("%s gate: %s's %q decision is in the bundle (only approvals lead to a deploy)", d.Gate, d.Identity, d.Verdict)
	case d.RequestID == "":
		return fmt.Errorf("%s: no request id", what)
	case seen[d.RequestID]:
		return fmt.Errorf("%s: request id %q appears twice", what, d.RequestID)
	}
	seen[d.RequestID] = true
	return nil
}

// gates replays the gates in the order a release meets them: who signed
// an earlier gate may not sign a later one.
func (c *bundleCheck) gates() error {
	var earlier []string
	for _, gate := range policy.Gates {
		signed, err := c.gate(gate, earlier)
		if err != nil {
			return err
		}
		earlier = append(earlier, signed...)
	}
	return nil
}

// gate judges the gate's decisions in bundle order with the policy's rules
// (Decide refuses one identity signing twice), then counts the quorum.
func (c *bundleCheck) gate(gate string, earlier []string) ([]string, error) {
	rule, ok := c.pol.Rule(c.in.Environment, gate)
	if !ok {
		return nil, fmt.Errorf("%s gate: no rule for environment %s (fail closed)", gate, c.in.Environment)
	}
	var signed []string
	for _, d := range c.decided {
		if d.Gate != gate {
			continue
		}
		if v := c.pol.Decide(c.check(d, earlier, signed)); !v.Allowed {
			return nil, fmt.Errorf("%s gate: %s may not sign: %s", gate, d.Identity, v.Reason)
		}
		if v := c.pol.CheckComment(c.in.Environment, gate, false, d.Comment); !v.Allowed {
			return nil, fmt.Errorf("%s gate: %s's approval: %s", gate, d.Identity, v.Reason)
		}
		signed = append(signed, d.Identity)
	}
	if len(signed) < c.quorum(gate, rule) {
		who := append(slices.Clone(rule.Groups), rule.Identities...)
		return nil, fmt.Errorf("%s gate: %d of %d approvals (quorum of %s not met)",
			gate, len(signed), c.quorum(gate, rule), strings.Join(who, ", "))
	}
	return signed, nil
}

// check is the policy question for decision d, with the facts the build
// and review roles signed: authors (declared and from git), emails that
// map to nobody, requester, who ran the stages.
func (c *bundleCheck) check(d attest.Decision, earlier, signed []string) policy.Check {
	p := c.prov.BuildDefinition.ExternalParameters
	return policy.Check{Environment: c.in.Environment, Gate: d.Gate, Identity: d.Identity,
		Authors: c.authors, Unmapped: c.unmapped, Requester: p.Requester, Declarer: c.declarer(), Earlier: earlier, Signed: signed,
		Executors: []string{c.prov.RunDetails.Builder.ID, c.rev.Reviewer}, Now: d.At}
}

// freeze: no deploy in an approval-gate freeze window at the deploy role's
// own clock, however long ago the release was approved.
func (c *bundleCheck) freeze(now time.Time) error {
	if w, ok := c.pol.Frozen(c.in.Environment, policy.GateApproval, now); ok {
		return fmt.Errorf("freeze window: %s until %s", w.Reason, w.End.UTC().Format(time.RFC3339))
	}
	return nil
}
