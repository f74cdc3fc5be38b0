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

// JudgeRules lists the codes above.
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
