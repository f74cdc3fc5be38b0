package policy

import (
	"slices"
	"strings"
)

// promotion validates an environment's promotion rule and break-glass
// settings.
func (v *validator) promotion(name string, env Environment) error {
	base := "environments." + name
	if err := v.requires(base+".requires", name, env.Requires); err != nil {
		return err
	}
	return v.emergency(base+".emergency", name, env)
}

// requires: an earlier environment that exists, a positive soak time, and
// no chain of rules that leads back here (nothing could ever be promoted).
func (v *validator) requires(path, name string, r *Requirement) error {
	if r == nil {
		return nil
	}
	switch _, known := v.p.Environments[r.Environment]; {
	case r.Environment == "":
		return v.fail(path+".environment", "is required: the environment the artifact must have run in first")
	case r.Environment == name:
		return v.fail(path+".environment", "%q requires itself", name)
	case !known:
		return v.fail(path+".environment", "unknown environment %q", r.Environment)
	case r.VerifiedFor <= 0:
		return v.fail(path+".verified_for", "must be positive (how long the artifact must have run verified there, e.g. 30m)")
	}
	if err := v.oneOf(path+".unmet", r.Unmet, UnmetRefuse, UnmetWait); err != nil {
		return err
	}
	if chain := v.requiresChain(name); chain != nil {
		return v.fail(path+".environment", "promotion rules form a cycle (%s): nothing could ever be promoted", strings.Join(chain, " -> "))
	}
	return nil
}

// requiresChain follows the promotion rules from env; it returns the
// chain when it comes back to env, nil otherwise.
func (v *validator) requiresChain(env string) []string {
	chain := []string{env}
	for cur := env; ; {
		e, ok := v.p.Environments[cur]
		if !ok || e.Requires == nil {
			return nil
		}
		cur = e.Requires.Environment
		chain = append(chain, cur)
		if cur == env {
			return chain
		}
		if slices.Contains(chain[:len(chain)-1], cur) {
			return nil // a cycle elsewhere: reported for its own environments
		}
	}
}

// emergency: a channel to announce it in, a positive deadline if any, and
// an approval gate that at least MinEmergencyApprovals people can sign.
func (v *validator) emergency(path, name string, env Environment) error {
	e := env.Emergency
	if e == nil {
		return nil
	}
	if err := v.text(path+".slack_channel", e.SlackChannel, true); err != nil {
		return err
	}
	if e.Deadline < 0 || (e.Deadline == 0 && v.loc.has(path+".deadline")) {
		return v.fail(path+".deadline", "must be positive, got %s", e.Deadline)
	}
	if e.SkipRequires && env.Requires == nil {
		return v.fail(path+".skip_requires", "environment %s has no promotion rule (requires) to skip", name)
	}
	r, ok := env.Gates[GateApproval]
	if !ok {
		return nil // reported as a missing gate
	}
	if who := v.p.signers(GateApproval, r); len(who) < MinEmergencyApprovals {
		return v.fail(path, "an emergency needs %d distinct approvers, but only %d identities may sign the approval gate (%s): no policy makes break-glass a one-person path",
			MinEmergencyApprovals, len(who), strings.Join(who, ", "))
	}
	return nil
}
