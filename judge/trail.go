package judge

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
)

// Rejudged is what re-judging a trail found: how many requests the judge
// replayed, and every entry whose recorded outcome is not the judge's.
type Rejudged struct {
	Scoped     bool     `json:"scoped"` // false: the trail predates scoped statements and was not re-judged
	Requests   int      `json:"requests"`
	Mismatches []string `json:"mismatches,omitempty"`
	// Own lists the people's own signatures the judge checked: "rita
	// (ssh) requested", "bob (ssh) approve at review".
	Own []string `json:"own_signatures,omitempty"`
}

// timing rules refuse a request for when it came (the gate not open yet or
// any more, the release ended or already cancelled), which the trail does
// not let the auditor replay; such a request never counted, and leaving it
// out of the replay cannot hide a separation rule's refusal.
var timing = []api.Rule{api.RuleGateClosed, api.RuleReleaseEnded, api.RuleAlreadyCancelling, api.RuleRefusalsCapped}

// trailRequest is one request a trail records, with the entry that
// recorded it.
type trailRequest struct {
	Request
	entry audit.Entry
}

// Trail re-judges an exported trail whose signatures and seal verified:
// it replays every decision and cancel the trail records with the judge,
// from the signed provenance, review and emergency declaration it holds,
// and names each entry whose recorded outcome differs from the judge's
// (a refused approval recorded as accepted, a gate or a deploy the
// decisions do not carry). A seal proves who closed the trail, not that
// its outcomes are right: this does.
func (j *Judge) Trail(entries []audit.Entry) (Rejudged, error) {
	t := collect(entries)
	rel, ok, err := j.trailRelease(entries, t)
	if err != nil || !ok {
		return Rejudged{}, err
	}
	f, err := j.trailFacts(rel, entries, t)
	if err != nil {
		return Rejudged{Scoped: true}, err
	}
	var reqs []Request
	for _, q := range t.requests {
		reqs = append(reqs, q.Request)
	}
	g := j.Replay(rel, f, reqs)
	out := Rejudged{Scoped: true, Requests: len(reqs), Own: j.ownSignatures(entries, g)}
	for i, o := range g.Outcomes {
		out.Mismatches = append(out.Mismatches, compare(t.requests[i].entry, o)...)
	}
	out.Mismatches = append(out.Mismatches, gatesAgree(entries, g)...)
	return out, nil
}

// collected is what a trail holds for the judge.
type collected struct {
	provenance, review, emergency attest.Envelope
	promotes                      string
	requests                      []trailRequest
}

func collect(entries []audit.Entry) collected {
	var t collected
	for _, e := range entries {
		env := attest.Envelope(e.Envelope)
		switch {
		case len(env) == 0:
		case e.Type == audit.EventStageFinished && e.Stage == api.StageCode && t.provenance == nil:
			t.provenance, t.promotes = env, audit.PromotedFrom(&e)
		case e.Type == audit.EventStageFinished && e.Stage == api.StageReview && t.review == nil:
			t.review = env
		case e.Type == audit.EventEmergency:
			t.emergency = env
		case e.Type == audit.EventDecision || e.Type == audit.EventDecisionRefused && !slices.Contains(timing, api.Rule(e.Rule)):
			t.requests = append(t.requests, trailRequest{Request{Kind: api.UpdateDecide, Envelope: env}, e})
		case e.Type == audit.EventCancelRequested || e.Type == audit.EventCancelRefused && !slices.Contains(timing, api.Rule(e.Rule)):
			t.requests = append(t.requests, trailRequest{Request{Kind: api.UpdateCancel, Envelope: env}, e})
		}
	}
	return t
}

// trailRelease is the release as its signed facts say: the run, service
// and environment the approval role scoped its statements to, the
// artifact and commit the build role attested. ok is false for a trail
// with nothing to re-judge: no request, no provenance, or statements from
// before they were scoped.
func (j *Judge) trailRelease(entries []audit.Entry, t collected) (Release, bool, error) {
	if len(t.requests) == 0 || t.provenance == nil {
		return Release{}, false, nil
	}
	var first struct {
		attest.Binding
		attest.Scope
	}
	if _, err := j.Signed(t.requests[0].Envelope, attest.RoleApproval, predicateOf(t.requests[0].Kind), &first); err != nil {
		return Release{}, false, fmt.Errorf("seq %d: %w", t.requests[0].entry.Seq, err)
	}
	if first.Scope == (attest.Scope{}) {
		return Release{}, false, nil
	}
	var p attest.Provenance
	f, err := j.Signed(t.provenance, attest.RoleBuild, attest.PredicateProvenance, &p)
	if err != nil {
		return Release{}, false, err
	}
	return Release{ID: entries[0].Release, RunID: first.RunID, Service: first.Service, Environment: first.Environment,
		Commit: p.BuildDefinition.ExternalParameters.Commit, Digest: f.Subject.SHA256, PolicyHash: first.PolicySHA256,
		Promotes: t.promotes}, true, nil
}

func predicateOf(kind string) string {
	if kind == api.UpdateCancel {
		return attest.PredicateCancel
	}
	return attest.PredicateDecision
}

// trailFacts are the separation facts from the trail's signed facts; the
// requester is the one the trail's start entry names (issue "People prove
// their own decisions" makes it signed).
func (j *Judge) trailFacts(rel Release, entries []audit.Entry, t collected) (Facts, error) {
	p, err := j.Provenance(rel, t.provenance)
	if err != nil {
		return Facts{}, err
	}
	authors, unmapped, err := j.Source(rel, p.BuildDefinition.ExternalParameters, nil)
	if err != nil {
		return Facts{}, err
	}
	f := Facts{Authors: authors, Unmapped: unmapped, Signers: SignedOnly(j.Policy, p.BuildDefinition.ExternalParameters.Change, p.BuildDefinition.ExternalParameters.Authors),
		Comments: true, Executors: []string{p.RunDetails.Builder.ID}}
	if r, err := j.Review(rel, t.review); err == nil {
		f.Executors = append(f.Executors, r.Reviewer)
	}
	if len(t.emergency) > 0 {
		e, err := j.Emergency(rel, t.emergency)
		if err != nil {
			return Facts{}, fmt.Errorf("emergency declaration: %w", err)
		}
		f.Declarer = e.Identity
	}
	for _, e := range entries {
		if e.Type == audit.EventReleaseStarted {
			f.Requester, err = j.trailRequester(rel, e)
			break
		}
	}
	return f, err
}

// trailRequester is who requested rel as its start entry says: checked
// against the requester's own signed request where the trail holds one or
// the environment asks for one.
func (j *Judge) trailRequester(rel Release, e audit.Entry) (string, error) {
	if len(e.Proof) == 0 {
		return j.Requester(rel, Claim{Requester: e.Actor})
	}
	var p attest.Proof
	if err := json.Unmarshal(e.Proof, &p); err != nil {
		return "", fmt.Errorf("seq %d: the requester's proof: %v", e.Seq, err)
	}
	var pr attest.PersonalRequest
	if f, err := attest.ParseStatement(p.Statement, attest.PredicatePersonalRequest); err == nil {
		_ = f.Decode(&pr)
	}
	id, err := j.Requester(rel, Claim{Requester: e.Actor, Commit: pr.Commit, Authors: pr.Authors, Proof: &p})
	if err != nil {
		return "", fmt.Errorf("seq %d: %w", e.Seq, err)
	}
	return id, nil
}

// ownSignatures names each own signature behind the request and the
// decisions that counted.
func (j *Judge) ownSignatures(entries []audit.Entry, g Gates) []string {
	var out []string
	for _, e := range entries {
		if e.Type == audit.EventReleaseStarted && len(e.Proof) > 0 {
			out = append(out, fmt.Sprintf("%s (%s) requested", e.Actor, proofKind(e.Proof)))
		}
	}
	for _, o := range g.Outcomes {
		var d attest.Decision
		if _, err := j.Signed(o.Envelope, attest.RoleApproval, attest.PredicateDecision, &d); err == nil && d.Proof != nil && o.Counted {
			out = append(out, fmt.Sprintf("%s (%s) %s at %s", o.Identity, kindOf(d.Proof), o.Verdict, o.Gate))
		}
	}
	return out
}

func proofKind(raw json.RawMessage) string {
	var p attest.Proof
	_ = json.Unmarshal(raw, &p)
	return kindOf(&p)
}

func kindOf(p *attest.Proof) string {
	if p.Passkey != nil {
		return "passkey"
	}
	return "ssh"
}

// compare names an entry whose recorded outcome the judge does not reach.
func compare(e audit.Entry, o Outcome) []string {
	accepted := e.Type == audit.EventDecision || e.Type == audit.EventCancelRequested
	switch {
	case accepted && !o.Counted:
		return []string{fmt.Sprintf("seq %d: the trail records %s's %s as accepted; the judge refuses it: %s",
			e.Seq, orUnknown(o.Identity), what(o), o.Why)}
	case !accepted && o.Counted:
		return []string{fmt.Sprintf("seq %d: the trail records %s's %s as refused (%s); the judge accepts it",
			e.Seq, orUnknown(o.Identity), what(o), e.Rule)}
	}
	return nil
}

func what(o Outcome) string {
	if o.Kind == api.UpdateCancel {
		return "cancel"
	}
	return fmt.Sprintf("%s at gate %s", o.Verdict, o.Gate)
}

// gatesAgree: a gate the trail records approved must be approved by the
// decisions that counted, and a deploy needs every gate approved.
func gatesAgree(entries []audit.Entry, g Gates) []string {
	var out []string
	for _, e := range entries {
		switch {
		case e.Type == audit.EventGateApproved && !slices.ContainsFunc(g.Approved, func(gate string) bool { return mentions(e, gate) }):
			out = append(out, fmt.Sprintf("seq %d: the trail records a gate approved that the decisions that count do not approve: %s", e.Seq, e.Detail))
		case e.Type == audit.EventDeploy && e.Outcome == "ok" && g.Passed() != nil:
			out = append(out, fmt.Sprintf("seq %d: the trail records a deploy the judge does not allow: %v", e.Seq, g.Passed()))
		}
	}
	return out
}

// mentions: gate entries say "gate NAME approved by …".
func mentions(e audit.Entry, gate string) bool {
	return strings.HasPrefix(e.Detail, "gate "+gate+" ")
}
