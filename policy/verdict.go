package policy

import "fmt"

// Rule is the code of a rule that refuses a decision: a short, stable
// label value (metrics, the gateway's "rule" field, the audit trail). The
// codes of rules that existed before codes did are the metric labels they
// had then, so that dashboards keep working.
type Rule string

// Codes of the policy's rules, in the order Decide applies them.
const (
	RuleNoRule          Rule = "no_rule"           // the environment has no rule for the gate (fail closed)
	RuleUnknownIdentity Rule = "unknown_identity"  // not a human or bot of the policy
	RuleServiceIdentity Rule = "service_identity"  // a worker role's identity: never signs
	RuleRanAStage       Rule = "ran_a_stage"       // ran a stage of this release
	RuleAuthor          Rule = "author"            // authored the change
	RuleUnmappedEmail   Rule = "unmapped_email"    // a commit email maps to nobody (unmapped_emails: block)
	RuleRequester       Rule = "requester"         // requested the release
	RuleDeclarer        Rule = "declarer"          // declared the release an emergency
	RuleEarlierSigner   Rule = "earlier_signer"    // signed an earlier gate
	RuleAlreadySigned   Rule = "already_signed"    // already signed this gate
	RuleBotNotAllowed   Rule = "bot_not_allowed"   // a bot at a gate it may not answer
	RuleBotsDoNotCount  Rule = "bots_do_not_count" // the gate's rule does not count bots
	RuleNotEligible     Rule = "not_eligible"      // neither in the rule's groups nor listed
	RuleFreeze          Rule = "freeze"            // an approval inside a freeze window
	RuleCommentMissing  Rule = "comment_missing"   // a rejection, or an approval where comment_required, without a comment
)

// Rules lists every code the policy's rules return.
var Rules = []Rule{
	RuleNoRule, RuleUnknownIdentity, RuleServiceIdentity, RuleRanAStage, RuleAuthor, RuleUnmappedEmail,
	RuleRequester, RuleDeclarer, RuleEarlierSigner, RuleAlreadySigned, RuleBotNotAllowed, RuleBotsDoNotCount,
	RuleNotEligible, RuleFreeze, RuleCommentMissing,
}

// pass is the verdict of a rule that lets the decision through.
var pass = Verdict{Allowed: true}

// refuse is the verdict of rule, with its reason for people.
func refuse(rule Rule, format string, args ...any) Verdict {
	return Verdict{Rule: rule, Reason: fmt.Sprintf(format, args...)}
}
