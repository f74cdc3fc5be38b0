package judge

import (
	"fmt"
	"slices"
	"strings"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// Facts are what the policy asks of a release besides the decision itself:
// who wrote, requested, declared and ran it.
type Facts struct {
	Authors, Unmapped []string
	Signers           []string // authors whose keys signed commits of the change
	Requester         string
	Declarer          string // "" unless the release is a verified emergency
	Executors         []string
	Comments          bool // the comment rule applies (releases with promotions)
}

// check is the policy question for one decision of the release.
func (f Facts) check(env, gate string, d attest.Decision, earlier, signed []string) policy.Check {
	return policy.Check{Environment: env, Gate: gate, Identity: d.Identity, Authors: f.Authors, Signers: f.Signers, Unmapped: f.Unmapped,
		Requester: f.Requester, Declarer: f.Declarer, Earlier: earlier, Signed: signed, Executors: f.Executors,
		Now: d.At, Reject: d.Verdict == api.VerdictReject}
}

// Decide judges one decision: every separation rule of the policy, then
// (where it applies) the comment rule. The workflow asks it at each
// decision, the deploy role and the auditor for each one of a replay.
func (j *Judge) Decide(c policy.Check, comments bool, comment string) policy.Verdict {
	v := j.Policy.Decide(c)
	if !v.Allowed {
		return v
	}
	if av, refused := addedVerdict(c); refused {
		return av
	}
	if !comments {
		return v
	}
	if cv := j.Policy.CheckComment(c.Environment, c.Gate, c.Reject, comment); !cv.Allowed {
		return cv
	}
	return v
}

// Tally is a gate's state once a decision that counts is added: any
// counted rejection rejects it, the quorum of counted approvals approves it,
// else it stays open. The workflow (as each decision arrives) and Replay
// (over a release's requests) both ask it: one count of a quorum.
func Tally(verdict string, approvals, quorum int) string {
	switch {
	case verdict == api.VerdictReject:
		return api.GateRejected
	case approvals >= quorum:
		return api.GateApproved
	}
	return api.GateOpen
}

// MayCancel: the requester or a release manager may cancel a release.
func (j *Judge) MayCancel(requester, identity string) policy.Verdict {
	if identity != requester && !j.Policy.IsReleaseManager(identity) {
		return policy.Verdict{Rule: api.RuleMayNotCancel,
			Reason: fmt.Sprintf("%s is neither the requester (%s) nor a release manager", identity, requester)}
	}
	return policy.Verdict{Allowed: true}
}

// Request is one signed request a release took, in the order it took them:
// a decide or a cancel Update's envelope.
type Request struct {
	Kind     string // api.UpdateDecide or api.UpdateCancel
	Envelope attest.Envelope
}

// Outcome is the replay's judgement of one request.
type Outcome struct {
	Request
	RequestID, Identity, Gate, Verdict string
	Counted                            bool   // the decision counts toward its gate (or the cancel took effect)
	Why                                string // why it does not count ("" when it does)
	Rule                               api.Rule
}

// Gates is the replay of a release's gates over its requests.
type Gates struct {
	Outcomes  []Outcome
	Signers   map[string][]string // by gate: whose approvals counted
	Approved  []string            // gates whose quorum was met, in order
	Rejected  string              // "gate X rejected by Y" when one was
	Cancelled string              // "cancelled by X: reason" when one was
}

// Passed reports whether every gate was approved and nothing stopped it.
func (g Gates) Passed() error {
	switch {
	case g.Cancelled != "":
		return fmt.Errorf("the release was %s", g.Cancelled)
	case g.Rejected != "":
		return fmt.Errorf("%s", g.Rejected)
	case len(g.Approved) < len(policy.Gates):
		return fmt.Errorf("%s", g.missing())
	}
	return nil
}

func (g Gates) missing() string {
	open := policy.Gates[len(g.Approved)]
	var not []string
	for _, o := range g.Outcomes {
		if !o.Counted && (o.Gate == open || o.Identity == "") {
			not = append(not, fmt.Sprintf("%s (%s)", orUnknown(o.Identity), o.Why))
		}
	}
	msg := fmt.Sprintf("%s gate: quorum not met: %d approvals counted [%s]", open, len(g.Signers[open]), strings.Join(g.Signers[open], ", "))
	if len(not) > 0 {
		msg += "; not counted: " + strings.Join(not, "; ")
	}
	return msg
}

func orUnknown(id string) string {
	if id == "" {
		return "a decision"
	}
	return id
}

// SignedOnly are the change's signers that no author, committer or
// co-author field and no declaration names: they are told "you signed a
// commit of this change", the others "you authored this change" (the same
// rule, author).
func SignedOnly(p *policy.Policy, c *attest.Change, declared []string) []string {
	if c == nil {
		return nil
	}
	named, _ := p.MapEmails(c.Emails)
	var out []string
	for _, id := range c.Signers {
		if !slices.Contains(named, id) && !slices.Contains(declared, id) {
			out = append(out, id)
		}
	}
	return out
}

// AllSigned refuses a change with a commit no person of the policy signed,
// where the policy says commits: signed. The build role refuses to build
// one; this catches a promotion of what an environment with commits: any
// built.
func AllSigned(c *attest.Change, service, env string) error {
	for _, k := range c.Commits {
		if k.Signature != attest.SignatureVerified {
			return fmt.Errorf("commit %s (%q) is %s: %s in %s takes only commits signed by a person of the policy (commits: signed)",
				k.SHA, k.Subject, orUnverified(k.Signature), service, env)
		}
	}
	if c.Unproven > 0 { // beyond the commits the provenance lists
		return fmt.Errorf("%d commits of the change are not signed by a person of the policy: %s in %s takes only signed commits (commits: signed)",
			c.Unproven, service, env)
	}
	return nil
}

func orUnverified(status string) string {
	if status == "" {
		return "not verified (built before commits were)"
	}
	return status
}
