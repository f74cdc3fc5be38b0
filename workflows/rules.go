package workflows

import "github.com/foureyes/foureyes/policy"

// Codes of the refusals the workflow itself makes, beside the policy's
// rules (policy.Rules): DecisionOutcome.Rule, the metric label, the audit
// entry. Values already used as metric labels before codes existed are kept.
const (
	RuleBadVerdict     policy.Rule = "bad_verdict"     // the verdict is neither approve nor reject
	RuleGateClosed     policy.Rule = "gate_closed"     // the gate is not open (decided, expired, cancelled, another gate)
	RuleUnverified     policy.Rule = "unverified"      // the signature did not verify, or an unsigned signal to a signed release
	RuleRefusalsCapped policy.Rule = "refusals_capped" // the sender's refusals reached refusalCap (ErrTypeRefusalsCapped)
	RuleNotReady       policy.Rule = "not_ready"       // the release's policy is not pinned yet (ErrTypeNotReady)
)

// Codes of refused cancels.
const (
	RuleReleaseEnded      policy.Rule = "release_ended"      // the release has already ended
	RuleAlreadyCancelling policy.Rule = "already_cancelling" // another cancel was accepted first
	RuleMayNotCancel      policy.Rule = "may_not_cancel"     // neither the requester nor a release manager
)

// CancelRules lists the codes of refused cancels (RuleUnverified,
// RuleRefusalsCapped and RuleNotReady apply to cancels too).
var CancelRules = []policy.Rule{RuleReleaseEnded, RuleAlreadyCancelling, RuleMayNotCancel}

// JudgeRules lists the codes of the judge's refused decisions.
var JudgeRules = []policy.Rule{RuleBadVerdict, RuleGateClosed, RuleUnverified, RuleRefusalsCapped, RuleNotReady}

// RuleOfError is the code of an Update the workflow refused with an
// application error of errType (its validator), "" for other errors.
func RuleOfError(errType string) policy.Rule {
	switch errType {
	case ErrTypeRefusalsCapped:
		return RuleRefusalsCapped
	case ErrTypeNotReady:
		return RuleNotReady
	}
	return ""
}
