package activities

import (
	"errors"
	"fmt"
	"time"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// promotedProvenance: a promotion deploys the artifact its promoted
// release built, so the bundle's provenance is that release's, built for
// the environment this one's promotion rule names. It is bound to the
// promoted release under the policy of its day (the keys of this role's
// policy still verify it).
func (c *bundleCheck) promotedProvenance() (func() attest.Binding, string, error) {
	req, ok := c.pol.Requirement(c.in.Environment)
	if !ok {
		return nil, "", fmt.Errorf("release promotes %s, but environment %s has no promotion rule (requires)", c.in.Promotes, c.in.Environment)
	}
	p := &c.prov.BuildDefinition.ExternalParameters
	bound := func() attest.Binding {
		if p.Release != c.in.Promotes {
			return p.Binding // Check fails: bound to another release
		}
		return attest.Binding{Release: c.in.ReleaseID, PolicySHA256: c.in.PolicyHash}
	}
	return bound, req.Environment, nil
}

// emergency verifies a break-glass declaration: the approval role vouches
// that a release manager of this role's policy declared this very release
// an emergency, with a reason, where the policy allows emergencies.
func (c *bundleCheck) emergency() error {
	env := c.in.Bundle.Emergency
	if len(env) == 0 {
		return nil
	}
	var e attest.Emergency
	f, err := c.ring.Verify(env, attest.RoleApproval, attest.PredicateEmergency)
	if err == nil {
		err = f.CheckSubject(attest.ReleaseSubject(c.in.ReleaseID))
	}
	if err == nil {
		err = f.Decode(&e)
	}
	if err == nil {
		err = e.Binding.Check(c.bind)
	}
	if err == nil {
		err = c.pol.CheckEmergency(c.in.Environment, e)
	}
	if err != nil {
		return fmt.Errorf("emergency declaration: %w", err)
	}
	c.declared = &e
	return nil
}

func (c *bundleCheck) declarer() string {
	if c.declared == nil {
		return ""
	}
	return c.declared.Identity
}

// quorum is the rule's quorum; the approval gate of an emergency never
// takes fewer than policy.MinEmergencyApprovals.
func (c *bundleCheck) quorum(gate string, rule policy.GateRule) int {
	if c.declared != nil && gate == policy.GateApproval {
		return policy.EmergencyQuorum(rule)
	}
	return rule.Quorum
}

// promotion judges the environment's promotion rule from this role's own
// record of the required environment, at its own clock, whatever the
// workflow found: the digest must run there verified for long enough. An
// emergency skips it only where the policy says skip_requires.
func (a *DeployActivities) promotion(c *bundleCheck, now time.Time) error {
	req, ok := c.pol.Requirement(c.in.Environment)
	if !ok {
		return nil
	}
	if e, _ := c.pol.EmergencyRule(c.in.Environment); c.declared != nil && e.SkipRequires {
		return nil
	}
	d, err := a.deployment(c.in.Service, req.Environment)
	if err != nil {
		return err
	}
	if j := req.Judge(d, c.in.Digest, now); !j.Met {
		return errors.New("promotion rule: " + j.Reason)
	}
	return nil
}

// deployment is this role's record of what runs of service in environment
// (nil: nothing) as promotion evidence.
func (a *DeployActivities) deployment(service, environment string) (*policy.Deployment, error) {
	st, err := readState(a.statePath(api.DeployInput{Service: service, Environment: environment}))
	if err != nil || st == nil {
		return nil, err
	}
	return &policy.Deployment{Digest: st.Digest, Release: st.ReleaseID, DeployedAt: st.DeployedAt, VerifiedAt: st.VerifiedAt}, nil
}
