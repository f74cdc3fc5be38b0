package judge

import (
	"fmt"
	"slices"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// Replay judges every request of rel in the order the release took them,
// as the workflow judged them: a decision counts only at the open gate
// (the first not yet approved; after an emergency's gates, its follow-up),
// only once per request id and only when every rule allows it; a
// rejection that counts rejects its gate; a cancel that counts stops the
// release. Refused decisions never count.
func (j *Judge) Replay(rel Release, f Facts, reqs []Request) Gates {
	r := &replay{j: j, rel: rel, facts: f, seen: map[string]bool{}, out: Gates{Signers: map[string][]string{}}}
	for _, q := range reqs {
		var o Outcome
		if q.Kind == api.UpdateCancel {
			o = r.cancel(q)
		} else {
			o = r.decide(q)
		}
		r.out.Outcomes = append(r.out.Outcomes, o)
	}
	return r.out
}

type replay struct {
	j       *Judge
	rel     Release
	facts   Facts
	earlier []string
	seen    map[string]bool // request ids judged; looked up, never iterated
	out     Gates
}

// open is the gate a decision may count at now ("" when none is).
func (r *replay) open() string {
	switch n := len(r.out.Approved); {
	case r.out.Rejected != "" || r.out.Cancelled != "":
		return ""
	case n < len(policy.Gates):
		return policy.Gates[n]
	case n == len(policy.Gates) && r.facts.Declarer != "":
		return api.GateFollowUp
	}
	return ""
}

func (r *replay) decide(q Request) Outcome {
	d, err := r.j.Decision(r.rel, q.Envelope)
	o := Outcome{Request: q, RequestID: d.RequestID, Identity: d.Identity, Gate: d.Gate, Verdict: d.Verdict}
	switch {
	case err != nil:
		o.Why, o.Rule = "unverified: "+err.Error(), api.RuleUnverified
	case r.seen[d.RequestID]:
		o.Why = fmt.Sprintf("request %s was judged before", d.RequestID)
	case d.Verdict != api.VerdictApprove && d.Verdict != api.VerdictReject:
		o.Why, o.Rule = fmt.Sprintf("verdict %q is neither approve nor reject", d.Verdict), api.RuleBadVerdict
	case d.Gate != r.open():
		o.Why, o.Rule = fmt.Sprintf("gate %s is not open (the open gate is %q)", d.Gate, r.open()), api.RuleGateClosed
	default:
		r.judge(&o, d)
	}
	if err == nil {
		r.seen[d.RequestID] = true
	}
	return o
}

// judge applies the rules to a decision at the open gate and, when it
// counts, signs the gate with it.
func (r *replay) judge(o *Outcome, d attest.Decision) {
	gate, earlier := d.Gate, r.earlier
	if gate == api.GateFollowUp { // judged by the review rule; nobody signs two gates of a release
		gate = policy.GateReview
	}
	v := r.j.Decide(r.facts.check(r.rel.Environment, gate, d, earlier, r.out.Signers[d.Gate]), r.facts.Comments, d.Comment)
	if !v.Allowed {
		o.Why, o.Rule = v.Reason, v.Rule
		return
	}
	o.Counted = true
	approvals := len(r.out.Signers[d.Gate])
	if d.Verdict == api.VerdictApprove {
		r.out.Signers[d.Gate] = append(r.out.Signers[d.Gate], d.Identity)
		approvals++
	}
	switch Tally(d.Verdict, approvals, r.quorum(d.Gate)) {
	case api.GateRejected:
		r.out.Rejected = fmt.Sprintf("%s gate rejected by %s", d.Gate, d.Identity)
	case api.GateApproved:
		r.out.Approved = append(r.out.Approved, d.Gate)
		r.earlier = append(slices.Clone(r.earlier), r.out.Signers[d.Gate]...)
	}
}

// FollowUpQuorum is the approvals an emergency's follow-up gate needs.
const FollowUpQuorum = 1

// quorum is the approvals gate needs: the rule's, never fewer than
// policy.MinEmergencyApprovals at an emergency's approval gate, one at
// its follow-up; a gate without a rule can never be met (fail closed).
func (r *replay) quorum(gate string) int {
	if gate == api.GateFollowUp {
		return FollowUpQuorum
	}
	rule, ok := r.j.Policy.Rule(r.rel.Environment, gate)
	switch {
	case !ok:
		return int(^uint(0) >> 1)
	case r.facts.Declarer != "" && gate == policy.GateApproval:
		return policy.EmergencyQuorum(rule)
	}
	return rule.Quorum
}

// cancel: a cancel from the requester or a release manager stops the
// release, unless it ended or was cancelled already.
func (r *replay) cancel(q Request) Outcome {
	c, err := r.j.Cancel(r.rel, q.Envelope)
	o := Outcome{Request: q, RequestID: c.RequestID, Identity: c.Identity}
	if err != nil {
		o.Why, o.Rule = "unverified: "+err.Error(), api.RuleUnverified
		return o
	}
	if r.out.Cancelled != "" {
		o.Why, o.Rule = "the release is already cancelled", api.RuleAlreadyCancelling
		return o
	}
	if v := r.j.MayCancel(r.facts.Requester, c.Identity); !v.Allowed {
		o.Why, o.Rule = v.Reason, v.Rule
		return o
	}
	o.Counted = true
	r.out.Cancelled = fmt.Sprintf("cancelled by %s: %s", c.Identity, c.Reason)
	return o
}

// Cancelled reports the first cancel of rel's requests that counts (from
// the requester or a release manager): a reason to stop or roll back.
func (j *Judge) Cancelled(rel Release, requester string, reqs []Request) (attest.Cancel, bool) {
	for _, q := range reqs {
		if q.Kind != api.UpdateCancel {
			continue
		}
		if c, err := j.Cancel(rel, q.Envelope); err == nil && j.MayCancel(requester, c.Identity).Allowed {
			return c, true
		}
	}
	return attest.Cancel{}, false
}
