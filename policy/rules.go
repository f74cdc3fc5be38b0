package policy

import (
	"slices"
	"strings"
	"time"

	"github.com/foureyes/foureyes/api"
)

// timeFormat is how times appear in reasons people read.
const timeFormat = time.RFC3339

// separation lists the checks of Decide after the rule lookup, in order;
// each returns pass or the verdict of the rule that refuses.
var separation = []func(p *Policy, c Check, r GateRule) Verdict{
	checkKnown, checkService, checkExecutor, checkAuthor, checkUnmapped, checkRequester, checkDeclarer,
	checkEarlier, checkSigned, checkBot, checkEligible, checkFreeze,
}

// Decide applies every rule to one decision (approve or reject alike); the
// first failing rule gives the verdict. A missing rule refuses (fail closed).
func (p *Policy) Decide(c Check) Verdict {
	r, ok := p.Rule(c.Environment, c.Gate)
	if !ok {
		return refuse(RuleNoRule, "no rule for gate %s in environment %s (fail closed)", c.Gate, c.Environment)
	}
	for _, check := range separation {
		if v := check(p, c, r); !v.Allowed {
			return v
		}
	}
	_, why := p.admits(r, c.Identity)
	return Verdict{Allowed: true, Reason: why}
}

// checkKnown lets service identities through so that checkService can say
// what they are rather than "unknown".
func checkKnown(p *Policy, c Check, _ GateRule) Verdict {
	if p.Known(c.Identity) || p.isService(c.Identity) {
		return pass
	}
	return refuse(RuleUnknownIdentity, "unknown identity %q", c.Identity)
}

func checkService(p *Policy, c Check, _ GateRule) Verdict {
	if p.isService(c.Identity) {
		return refuse(RuleServiceIdentity, "service identity %s may never sign", c.Identity)
	}
	return pass
}

// checkExecutor matches "bob" against worker identities "bob" and "bob@host".
func checkExecutor(_ *Policy, c Check, _ GateRule) Verdict {
	for _, e := range c.Executors {
		if e == c.Identity || strings.HasPrefix(e, c.Identity+"@") {
			return refuse(RuleRanAStage, "you ran a stage of this release (as %s)", e)
		}
	}
	return pass
}

func checkAuthor(_ *Policy, c Check, _ GateRule) Verdict {
	if slices.Contains(c.Signers, c.Identity) {
		return refuse(RuleAuthor, "you signed a commit of this change")
	}
	if slices.Contains(c.Authors, c.Identity) {
		return refuse(RuleAuthor, "you authored this change")
	}
	return pass
}

func checkRequester(_ *Policy, c Check, _ GateRule) Verdict {
	if c.Requester != "" && c.Requester == c.Identity {
		return refuse(RuleRequester, "you requested this release")
	}
	return pass
}

func checkDeclarer(_ *Policy, c Check, _ GateRule) Verdict {
	if c.Declarer != "" && c.Declarer == c.Identity {
		return refuse(RuleDeclarer, "you declared this release an emergency")
	}
	return pass
}

func checkEarlier(_ *Policy, c Check, _ GateRule) Verdict {
	if !slices.Contains(c.Earlier, c.Identity) {
		return pass
	}
	if before := earlierGates(c.Gate); len(before) > 0 {
		return refuse(RuleEarlierSigner, "you signed an earlier gate (%s)", strings.Join(before, ", "))
	}
	return refuse(RuleEarlierSigner, "you signed an earlier gate")
}

// earlierGates are the gates a release meets before gate.
func earlierGates(gate string) []string {
	if i := slices.Index(Gates, gate); i > 0 {
		return Gates[:i]
	}
	return nil
}

func checkSigned(_ *Policy, c Check, _ GateRule) Verdict {
	if slices.Contains(c.Signed, c.Identity) {
		return refuse(RuleAlreadySigned, "you already signed this gate")
	}
	return pass
}

func checkBot(p *Policy, c Check, r GateRule) Verdict {
	b := p.bot(c.Identity)
	switch {
	case b == nil:
		return pass
	case !slices.Contains(b.Gates, c.Gate):
		return refuse(RuleBotNotAllowed, "bot %s may not answer the %s gate", b.ID, c.Gate)
	case !r.BotsCount:
		return refuse(RuleBotsDoNotCount, "bots do not count at this gate")
	}
	return pass
}

func checkEligible(p *Policy, c Check, r GateRule) Verdict {
	if ok, _ := p.admits(r, c.Identity); ok {
		return pass
	}
	var why []string
	if len(r.Groups) > 0 {
		why = append(why, "not in "+strings.Join(r.Groups, " or "))
	}
	if len(r.Identities) > 0 {
		why = append(why, "not listed for this gate")
	}
	return refuse(RuleNotEligible, "%s", strings.Join(why, " and "))
}

func checkFreeze(_ *Policy, c Check, r GateRule) Verdict {
	if w, ok := frozenAt(r, c.Now); ok && !c.Reject {
		return refuse(RuleFreeze, "freeze window: %s until %s", w.Reason, w.End.UTC().Format(timeFormat))
	}
	return pass
}

// admits reports whether the rule names id, directly or by group, and how.
func (p *Policy) admits(r GateRule, id string) (bool, string) {
	if slices.Contains(r.Identities, id) {
		return true, "listed for this gate"
	}
	for _, g := range p.groupsOf(id) {
		if slices.Contains(r.Groups, g) {
			return true, "member of " + g
		}
	}
	return false, ""
}

// signers are the identities that could ever count toward the rule's quorum
// at gate, sorted.
func (p *Policy) signers(gate string, r GateRule) []string {
	var who []string
	for _, h := range p.Humans {
		if ok, _ := p.admits(r, h.ID); ok {
			who = append(who, h.ID)
		}
	}
	for _, b := range p.Bots {
		if ok, _ := p.admits(r, b.ID); ok && r.BotsCount && slices.Contains(b.Gates, gate) {
			who = append(who, b.ID)
		}
	}
	slices.Sort(who)
	return who
}

// Explain runs Decide for every human and bot (c.Identity is ignored),
// sorted by identity.
func (p *Policy) Explain(c Check) []api.Eligibility {
	out := make([]api.Eligibility, 0, len(p.Humans)+len(p.Bots))
	for _, id := range p.identities() {
		c.Identity = id
		v := p.Decide(c)
		out = append(out, api.Eligibility{Identity: id, Kind: p.kind(id), Eligible: v.Allowed, Rule: v.Rule, Reason: v.Reason})
	}
	return out
}

// Awaiting lists the identities that could still sign, sorted.
func (p *Policy) Awaiting(c Check) []string {
	out := []string{}
	for _, e := range p.Explain(c) {
		if e.Eligible {
			out = append(out, e.Identity)
		}
	}
	return out
}

// Rule is the rule of gate in environment env.
func (p *Policy) Rule(env, gate string) (GateRule, bool) {
	e, ok := p.Environments[env]
	if !ok {
		return GateRule{}, false
	}
	r, ok := e.Gates[gate]
	return r, ok
}

// Frozen returns the freeze window of the rule active at now; when several
// overlap, the one that ends last.
func (p *Policy) Frozen(env, gate string, now time.Time) (Window, bool) {
	r, ok := p.Rule(env, gate)
	if !ok {
		return Window{}, false
	}
	return frozenAt(r, now)
}

func frozenAt(r GateRule, now time.Time) (Window, bool) {
	var found Window
	ok := false
	for _, w := range r.Freeze {
		if !now.Before(w.Start) && now.Before(w.End) && (!ok || w.End.After(found.End)) {
			found, ok = w, true
		}
	}
	return found, ok
}

// Known reports whether id is a human or a bot of the policy. Service
// identities are not known signers.
func (p *Policy) Known(id string) bool { return p.kind(id) != "" }

// IsReleaseManager reports whether id is in one of the release_managers groups.
func (p *Policy) IsReleaseManager(id string) bool {
	for _, g := range p.groupsOf(id) {
		if slices.Contains(p.ReleaseManagers, g) {
			return true
		}
	}
	return false
}

// isService matches a service identity and its worker form "name@host".
func (p *Policy) isService(id string) bool {
	for _, s := range p.ServiceIdentities {
		if id == s || strings.HasPrefix(id, s+"@") {
			return true
		}
	}
	return false
}

func (p *Policy) human(id string) *Human {
	for i := range p.Humans {
		if p.Humans[i].ID == id {
			return &p.Humans[i]
		}
	}
	return nil
}

func (p *Policy) bot(id string) *Bot {
	for i := range p.Bots {
		if p.Bots[i].ID == id {
			return &p.Bots[i]
		}
	}
	return nil
}

// kind is "human", "bot" or "" (unknown).
func (p *Policy) kind(id string) string {
	switch {
	case p.human(id) != nil:
		return "human"
	case p.bot(id) != nil:
		return "bot"
	}
	return ""
}

func (p *Policy) groupsOf(id string) []string {
	if h := p.human(id); h != nil {
		return h.Groups
	}
	if b := p.bot(id); b != nil {
		return b.Groups
	}
	return nil
}

// identities are all human and bot ids, sorted.
func (p *Policy) identities() []string {
	ids := make([]string, 0, len(p.Humans)+len(p.Bots))
	for _, h := range p.Humans {
		ids = append(ids, h.ID)
	}
	for _, b := range p.Bots {
		ids = append(ids, b.ID)
	}
	slices.Sort(ids)
	return ids
}
