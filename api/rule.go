package api

// Rule is the code of a rule that refused a decision or a cancel: a short,
// stable label value that metrics, the gateway's "rule" field, Slack replies
// and the audit trail carry. The reason beside it is for people and may be
// reworded; programs read the code. The policy's codes are in package
// policy (policy.Rules), the workflow's own below.
type Rule string

// Codes of the refusals the workflow itself makes, beside the policy's
// rules (Rules): DecisionOutcome.Rule, the metric label, the audit
// entry. Values already used as metric labels before codes existed are kept.
const (
	RuleBadVerdict     Rule = "bad_verdict"     // the verdict is neither approve nor reject
	RuleGateClosed     Rule = "gate_closed"     // the gate is not open (decided, expired, cancelled, another gate)
	RuleUnverified     Rule = "unverified"      // the signature did not verify, or an unsigned signal to a signed release
	RuleRefusalsCapped Rule = "refusals_capped" // the sender's refusals reached refusalCap (ErrTypeRefusalsCapped)
	RuleNotReady       Rule = "not_ready"       // the release's policy is not pinned yet (ErrTypeNotReady)
)

// Codes of refused cancels.
const (
	RuleReleaseEnded      Rule = "release_ended"      // the release has already ended
	RuleAlreadyCancelling Rule = "already_cancelling" // another cancel was accepted first
	RuleMayNotCancel      Rule = "may_not_cancel"     // neither the requester nor a release manager
)

// CancelRules lists the codes of refused cancels (RuleUnverified,
// RuleRefusalsCapped and RuleNotReady apply to cancels too).
var CancelRules = []Rule{RuleReleaseEnded, RuleAlreadyCancelling, RuleMayNotCancel}

// JudgeRules lists the codes of the judge's refused decisions.
var JudgeRules = []Rule{RuleBadVerdict, RuleGateClosed, RuleUnverified, RuleRefusalsCapped, RuleNotReady}

// RuleOfError is the code of an Update the workflow refused with an
// application error of errType (its validator), "" for other errors.
func RuleOfError(errType string) Rule {
	switch errType {
	case ErrTypeRefusalsCapped:
		return RuleRefusalsCapped
	case ErrTypeNotReady:
		return RuleNotReady
	}
	return ""
}
