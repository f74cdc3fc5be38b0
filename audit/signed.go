package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/foureyes/foureyes/attest"
)

// Report is what VerifySigned proved about a chain.
type Report struct {
	Entries      int            `json:"entries"`       // entries verified, the seal's own entry included
	Head         string         `json:"head"`          // hash of the last entry (the seal's)
	Release      string         `json:"release"`       // the one release every entry belongs to
	PolicySHA256 string         `json:"policy_sha256"` // the policy every bound fact names
	Envelopes    map[string]int `json:"envelopes"`     // envelopes verified, by signing role
	Seal         SealReport     `json:"seal"`
}

// SealReport is the orchestrator's seal that ends a verified chain.
type SealReport struct {
	KeyID   string    `json:"key_id"` // the orchestrator key that verified it
	Sealer  string    `json:"sealer"` // the worker identity that sealed
	Head    string    `json:"head"`   // the chain head it signs: the hash of the entry before it
	Entries int       `json:"entries"`
	Status  string    `json:"status"`
	At      time.Time `json:"at"`
}

// VerifySigned does what Verify does, and also checks every envelope against
// ring (the key ring of the policy): each must be signed by the role that
// owns that kind of fact, be the kind of statement the entry records, agree
// with the entry, and be bound to the entry's release, to one policy and,
// for facts about the artifact, to the digest the build attested. The chain
// must end with an audit_sealed entry whose orchestrator seal signs the hash
// of the entry before it: so a cut, re-chained or re-sealed export fails,
// which Verify cannot see. The error names the first entry that fails.
func VerifySigned(r io.Reader, ring Verifier) (Report, error) {
	v := &signedVerifier{judge: ring, rep: Report{Envelopes: map[string]int{}}}
	n, err := scan(r, v.check)
	if err != nil {
		return Report{}, err
	}
	if v.last.Type != EventSealed {
		return Report{}, fmt.Errorf("line %d%s: the chain ends without an %s entry: it was cut after this entry, or never sealed",
			n, seqNote(v.last), EventSealed)
	}
	v.rep.Entries, v.rep.Head = n, v.last.Hash
	return v.rep, nil
}

// Verifier verifies one envelope as role's statement of predicateType:
// the judge (package judge), whose Verify is the one call of a key ring's.
type Verifier interface {
	Verify(env attest.Envelope, role, predicateType string) (attest.Fact, error)
}

// signedVerifier carries what later entries are checked against.
type signedVerifier struct {
	judge  Verifier
	rep    Report
	digest string // the artifact digest of the build provenance, once seen
	last   *Entry
}

// check is called on each entry once its link in the hash chain holds.
func (v *signedVerifier) check(e *Entry) error {
	if err := v.sameRelease(e); err != nil {
		return err
	}
	if v.last != nil && v.last.Type == EventSealed {
		return fmt.Errorf("follows the seal at seq %d: nothing may be appended to a sealed chain", v.last.Seq)
	}
	v.last = e
	r, owned := ruleFor(e)
	switch {
	case !owned && len(e.Envelope) > 0:
		return fmt.Errorf("carries an envelope, but no role signs %s", describe(e))
	case !owned, len(e.Envelope) == 0 && !r.required:
		return nil
	}
	if err := v.fact(e, r); err != nil {
		return fmt.Errorf("%s envelope: %w", r.role, err)
	}
	v.rep.Envelopes[r.role]++
	return nil
}

// sameRelease: a trail is one release's, and its seal is over that release.
func (v *signedVerifier) sameRelease(e *Entry) error {
	if e.Seq == 1 {
		v.rep.Release = e.Release
	}
	switch {
	case e.Release == "":
		return errors.New("names no release")
	case e.Release != v.rep.Release:
		return fmt.Errorf("release %q in the trail of release %q", e.Release, v.rep.Release)
	}
	return nil
}

// rule says who signs the fact an entry rests on.
type rule struct {
	role, predicate string
	required        bool // the entry cannot be true without the role's signed fact
}

// ruleFor returns the rule of e's kind of entry; false for entries that rest
// on no signed fact (the orchestrator's own bookkeeping, vouched for by the
// seal). A refusal carries its envelope only if the fact verified and was
// bound to the release (it was refused on the policy's rules), so it is
// held to the same checks; one that did not verify is recorded without.
func ruleFor(e *Entry) (rule, bool) {
	switch e.Type {
	case EventDecision:
		return rule{attest.RoleApproval, attest.PredicateDecision, true}, true
	case EventDecisionRefused:
		return rule{attest.RoleApproval, attest.PredicateDecision, false}, true
	case EventCancelRequested:
		return rule{attest.RoleApproval, attest.PredicateCancel, true}, true
	case EventCancelRefused:
		return rule{attest.RoleApproval, attest.PredicateCancel, false}, true
	case EventEmergency:
		return rule{attest.RoleApproval, attest.PredicateEmergency, true}, true
	case EventDeploy, EventVerify, EventRollback:
		// A step whose activity failed outright has no receipt; one that ran has.
		return rule{attest.RoleDeploy, attest.PredicateDeploy, e.Outcome == "ok"}, true
	case EventSealed:
		return rule{attest.RoleOrchestrator, attest.PredicateSeal, true}, true
	case EventStageFinished, EventStageFailed:
		return stageRule(e)
	}
	return rule{}, false
}

// stageRule: the code and review stages finish only on their role's
// attestation; a failed one may carry it (a review that did not pass).
func stageRule(e *Entry) (rule, bool) {
	finished := e.Type == EventStageFinished
	switch e.Stage {
	case "code":
		return rule{attest.RoleBuild, attest.PredicateProvenance, finished}, true
	case "review":
		return rule{attest.RoleReview, attest.PredicateReview, finished}, true
	}
	return rule{}, false
}

func describe(e *Entry) string {
	if e.Stage == "" {
		return e.Type + " entries"
	}
	return fmt.Sprintf("%s entries of stage %s", e.Type, e.Stage)
}

// fact verifies e's envelope under r and checks it says what the entry says.
func (v *signedVerifier) fact(e *Entry, r rule) error {
	f, err := v.judge.Verify(attest.Envelope(e.Envelope), r.role, r.predicate)
	if err != nil {
		return err
	}
	if r.predicate == attest.PredicateSeal {
		return v.seal(e, f)
	}
	var c claims
	if err := f.Decode(&c); err != nil {
		return err
	}
	if err := c.agree(e, r.predicate); err != nil {
		return err
	}
	if err := v.bound(e, c.binding(r.predicate), r.predicate); err != nil {
		return err
	}
	return v.about(e, r.predicate, f)
}

// claims are the parts of any predicate that an entry is checked against.
type claims struct {
	attest.Binding
	Identity        string `json:"identity"` // decision, cancel, emergency
	Verdict         string `json:"verdict"`  // decision
	Step            string `json:"step"`     // deploy receipt
	OK              bool   `json:"ok"`       // deploy receipt
	BuildDefinition struct {
		ExternalParameters attest.Binding `json:"externalParameters"`
	} `json:"buildDefinition"` // provenance
}

// binding: SLSA provenance keeps its binding among the build's parameters.
func (c claims) binding(predicate string) attest.Binding {
	if predicate == attest.PredicateProvenance {
		return c.BuildDefinition.ExternalParameters
	}
	return c.Binding
}

// agree checks that the entry records what the signer vouched for, so that
// an entry cannot borrow a genuine envelope to claim something else.
func (c claims) agree(e *Entry, predicate string) error {
	switch predicate {
	case attest.PredicateDecision, attest.PredicateCancel, attest.PredicateEmergency:
		if c.Identity != e.Actor {
			return misbound("signed for identity %q, but the entry names %q", c.Identity, e.Actor)
		}
		if predicate == attest.PredicateDecision && e.Type == EventDecision && c.Verdict != e.Outcome {
			return misbound("signed as %q, but the entry records %q", c.Verdict, e.Outcome)
		}
	case attest.PredicateDeploy:
		if c.Step != e.Type {
			return misbound("a %s receipt on a %s entry", c.Step, e.Type)
		}
		if c.OK != (e.Outcome == "ok") {
			return misbound("the receipt says ok=%t, the entry's outcome is %q", c.OK, e.Outcome)
		}
	}
	return nil
}

// bound checks b names e's release and the same policy as every other fact
// of the chain (the first one fixes it: the seal is checked against it too).
func (v *signedVerifier) bound(e *Entry, b attest.Binding, predicate string) error {
	if b.PolicySHA256 == "" {
		return misbound("bound to no policy")
	}
	if predicate == attest.PredicateProvenance && b.Release != "" && b.Release != e.Release && promotedFrom(e) == b.Release {
		return nil // a promotion's: the promoted release's provenance (under its policy), as the sealed entry says
	}
	if v.rep.PolicySHA256 == "" {
		v.rep.PolicySHA256 = b.PolicySHA256
	}
	return b.Check(attest.Binding{Release: e.Release, PolicySHA256: v.rep.PolicySHA256})
}

// PromotedFrom is the release a promotion's code stage names ("" else).
func PromotedFrom(e *Entry) string { return promotedFrom(e) }

// promotedFrom is the release a promotion's code stage names ("" else):
// the workflow records "promoted from release ID: ..." with the promoted
// provenance, and the chain and its seal cover that text.
func promotedFrom(e *Entry) string {
	rest, ok := strings.CutPrefix(e.Detail, "promoted from release ")
	if !ok || e.Stage != "code" {
		return ""
	}
	id, _, _ := strings.Cut(rest, ":")
	return id
}

// about checks the statement's subject: cancels name the release; every
// other fact names the artifact the build attested (the first provenance).
func (v *signedVerifier) about(e *Entry, predicate string, f attest.Fact) error {
	switch {
	case predicate == attest.PredicateCancel || predicate == attest.PredicateEmergency:
		return f.CheckSubject(attest.ReleaseSubject(e.Release))
	case predicate == attest.PredicateProvenance && v.digest == "":
		v.digest = f.Subject.SHA256
		return nil
	case v.digest == "":
		return misbound("about artifact sha256:%s, but no build provenance precedes it", f.Subject.SHA256)
	}
	return f.CheckSubject(attest.ArtifactSubject(v.digest))
}

// seal checks the orchestrator's seal signs exactly the chain before it:
// its head is the previous entry's hash and it counts every entry before it.
func (v *signedVerifier) seal(e *Entry, f attest.Fact) error {
	var s attest.Seal
	if err := f.Decode(&s); err != nil {
		return err
	}
	if err := v.bound(e, s.Binding, attest.PredicateSeal); err != nil {
		return err
	}
	switch {
	case s.Head != e.Prev:
		return misbound("the seal signs head %s, but the entry before it has hash %s: entries were removed and re-chained, or the seal is another chain's",
			s.Head, e.Prev)
	case s.Entries != e.Seq-1:
		return misbound("the seal counts %d entries, but %d precede it", s.Entries, e.Seq-1)
	}
	if err := f.CheckSubject(attest.SealSubject(e.Release, e.Prev)); err != nil {
		return err
	}
	v.rep.Seal = SealReport{KeyID: f.KeyID, Sealer: s.Sealer, Head: s.Head, Entries: s.Entries, Status: s.Status, At: s.At}
	return nil
}

func misbound(format string, args ...any) error {
	return &attest.Error{Code: attest.CodeMisbound, Reason: fmt.Sprintf(format, args...)}
}

// ExportInToto writes the envelopes entries rest on as an in-toto bundle
// (.intoto.jsonl): one compact DSSE envelope per line, in chain order, so
// that in-toto tooling can check them without foureyes. Entries without an
// envelope are skipped. It returns the number of envelopes written.
func ExportInToto(w io.Writer, entries []Entry) (int, error) {
	bw := bufio.NewWriter(w)
	var line bytes.Buffer
	n := 0
	for _, e := range entries {
		if len(e.Envelope) == 0 {
			continue
		}
		line.Reset()
		if err := json.Compact(&line, e.Envelope); err != nil {
			return n, fmt.Errorf("audit: bundle seq %d: %w", e.Seq, err)
		}
		line.WriteByte('\n')
		bw.Write(line.Bytes())
		n++
	}
	return n, bw.Flush()
}

// ReadEntries reads an export whose chain holds, entry by entry.
func ReadEntries(r io.Reader) ([]Entry, error) {
	var out []Entry
	_, err := scan(r, func(e *Entry) error { out = append(out, *e); return nil })
	return out, err
}
