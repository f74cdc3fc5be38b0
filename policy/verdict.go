package policy

import (
	"fmt"

	"github.com/foureyes/foureyes/api"
)

// Codes of the policy's rules, in the order Decide applies them.
const (
	RuleNoRule          api.Rule = "no_rule"           // the environment has no rule for the gate (fail closed)
	RuleUnknownIdentity api.Rule = "unknown_identity"  // not a human or bot of the policy
	RuleServiceIdentity api.Rule = "service_identity"  // a worker role's identity: never signs
	RuleRanAStage       api.Rule = "ran_a_stage"       // ran a stage of this release
	RuleAuthor          api.Rule = "author"            // authored the change
	RuleUnmappedEmail   api.Rule = "unmapped_email"    // a commit email maps to nobody (unmapped_emails: block)
	RuleRequester       api.Rule = "requester"         // requested the release
	RuleDeclarer        api.Rule = "declarer"          // declared the release an emergency
	RuleEarlierSigner   api.Rule = "earlier_signer"    // signed an earlier gate
	RuleAlreadySigned   api.Rule = "already_signed"    // already signed this gate
	RuleBotNotAllowed   api.Rule = "bot_not_allowed"   // a bot at a gate it may not answer
	RuleBotsDoNotCount  api.Rule = "bots_do_not_count" // the gate's rule does not count bots
	RuleNotEligible     api.Rule = "not_eligible"      // neither in the rule's groups nor listed
	RuleFreeze          api.Rule = "freeze"            // an approval inside a freeze window
	RuleCommentMissing  api.Rule = "comment_missing"   // a rejection, or an approval where comment_required, without a comment
)

// Rules lists every code the policy's rules return.
var Rules = []api.Rule{
	RuleNoRule, RuleUnknownIdentity, RuleServiceIdentity, RuleRanAStage, RuleAuthor, RuleUnmappedEmail,
	RuleRequester, RuleDeclarer, RuleEarlierSigner, RuleAlreadySigned, RuleBotNotAllowed, RuleBotsDoNotCount,
	RuleNotEligible, RuleFreeze, RuleCommentMissing,
}

// pass is the verdict of a rule that lets the decision through.
var pass = Verdict{Allowed: true}

// refuse is the verdict of rule, with its reason for people.
func refuse(rule api.Rule, format string, args ...any) Verdict {
	return Verdict{Rule: rule, Reason: fmt.Sprintf(format, args...)}
}
