package policy

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/foureyes/foureyes/attest"
)

// Settings of a promotion rule when its evidence is not there yet.
const (
	UnmetRefuse = "refuse" // the release is refused at start (default)
	UnmetWait   = "wait"   // a release verified too recently waits out the rest
)

// Requirement is an environment's promotion rule: the release's artifact
// digest must be deployed and verified in Environment, and not rolled back
// or replaced since, for at least VerifiedFor.
type Requirement struct {
	Environment string   `yaml:"environment" json:"environment"`
	VerifiedFor Duration `yaml:"verified_for" json:"verified_for"`
	// Unmet: "refuse" (the default) or "wait". Wait applies only to an
	// artifact verified there too recently; anything else is refused.
	Unmet string `yaml:"unmet" json:"unmet,omitempty"`
}

// Emergency says what a break-glass release may do in an environment. It
// never lowers who may sign: the approval gate still needs at least
// MinEmergencyApprovals distinct eligible people (EmergencyQuorum).
type Emergency struct {
	// SlackChannel is where an emergency release is announced (required).
	SlackChannel string `yaml:"slack_channel" json:"slack_channel"`
	// SkipRequires lets an emergency skip the promotion rule.
	SkipRequires bool `yaml:"skip_requires" json:"skip_requires,omitempty"`
	// Deadline (optional) shortens every gate's deadline to at most this.
	Deadline Duration `yaml:"deadline" json:"deadline,omitempty"`
}

// MinEmergencyApprovals: no policy makes break-glass a one-person path.
const MinEmergencyApprovals = 2

// Deployment is what the deploy role's record says runs in an environment:
// the artifact, the release that deployed it, and when it was deployed and
// verified (zero: not verified).
type Deployment struct {
	Digest     string
	Release    string
	DeployedAt time.Time
	VerifiedAt time.Time
}

// Requirement returns the promotion rule of env, if it has one.
func (p *Policy) Requirement(env string) (Requirement, bool) {
	e, ok := p.Environments[env]
	if !ok || e.Requires == nil {
		return Requirement{}, false
	}
	return *e.Requires, true
}

// EmergencyRule returns env's break-glass settings; ok is false where
// emergencies are not allowed.
func (p *Policy) EmergencyRule(env string) (Emergency, bool) {
	e, ok := p.Environments[env]
	if !ok || e.Emergency == nil {
		return Emergency{}, false
	}
	return *e.Emergency, true
}

// EmergencyQuorum is the approvals a gate needs in an emergency.
func EmergencyQuorum(r GateRule) int {
	return max(r.Quorum, MinEmergencyApprovals)
}

// EmergencyDeadline is a gate's deadline in an emergency: shortened to the
// environment's emergency deadline when that is shorter, never longer.
func EmergencyDeadline(r GateRule, e Emergency) time.Duration {
	d := r.Deadline.Std()
	if e.Deadline > 0 && e.Deadline.Std() < d {
		return e.Deadline.Std()
	}
	return d
}

// Judgement is a promotion rule judged on its evidence.
type Judgement struct {
	Met    bool
	Reason string // why not, for people ("" when met)
	// Left is, when only the soak time is short, how much of it is left.
	Left time.Duration
}

// Judge checks the evidence d (nil: nothing deployed there) for the
// artifact digest at now.
func (r Requirement) Judge(d *Deployment, digest string, now time.Time) Judgement {
	what := fmt.Sprintf("takes only what %s verified for %s", r.Environment, r.VerifiedFor)
	unmet := func(format string, args ...any) Judgement {
		return Judgement{Reason: fmt.Sprintf(format, args...) + "; this environment " + what}
	}
	switch {
	case d == nil:
		return unmet("sha256:%s was never deployed to %s (nothing is deployed there)", short12(digest), r.Environment)
	case d.Digest != digest:
		return unmet("%s runs sha256:%s (release %s), not sha256:%s (a deploy of it since rolled back or "+
			"replaced does not count)", r.Environment, short12(d.Digest), d.Release, short12(digest))
	case d.VerifiedAt.IsZero():
		return unmet("sha256:%s is deployed to %s (release %s) but was not verified", short12(digest), r.Environment, d.Release)
	}
	soak := now.Sub(d.VerifiedAt)
	if soak >= r.VerifiedFor.Std() {
		return Judgement{Met: true}
	}
	left := r.VerifiedFor.Std() - soak
	j := unmet("sha256:%s was verified in %s at %s, %s ago", short12(digest), r.Environment,
		d.VerifiedAt.UTC().Format(timeFormat), soak.Round(time.Second))
	j.Reason += fmt.Sprintf(" (%s left)", left.Round(time.Second))
	j.Left = left
	return j
}

// Waits reports whether a release short of the soak time waits rather
// than being refused.
func (r Requirement) Waits() bool { return r.Unmet == UnmetWait }

func short12(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}

// CheckComment refuses a decision without a comment: a rejection always
// needs one (no policy can waive it), an approval where the gate rule says
// comment_required. It passes when the comment is there.
func (p *Policy) CheckComment(env, gate string, reject bool, comment string) Verdict {
	if strings.TrimSpace(comment) != "" {
		return pass
	}
	if reject {
		return refuse(RuleCommentMissing, "a rejection needs a comment: say why")
	}
	if r, ok := p.Rule(env, gate); ok && r.CommentRequired {
		return refuse(RuleCommentMissing, "an approval at gate %s in %s needs a comment (comment_required)", gate, env)
	}
	return pass
}

// CheckEmergency is what makes a signed declaration count, for the
// workflow and the deploy role alike.
func (p *Policy) CheckEmergency(environment string, e attest.Emergency) error {
	switch _, allowed := p.EmergencyRule(environment); {
	case !allowed:
		return fmt.Errorf("environment %s allows no emergency releases (no emergency: in the policy)", environment)
	case e.RequestID == "" || e.Identity == "":
		return errors.New("no request id or identity")
	case !p.IsReleaseManager(e.Identity):
		return fmt.Errorf("%s is not a release manager: only release managers declare emergencies", e.Identity)
	case strings.TrimSpace(e.Reason) == "":
		return errors.New("an emergency needs a reason")
	}
	return nil
}
