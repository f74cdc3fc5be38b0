// Package judge is the one judge of a release's evidence. The workflow,
// the deploy role's pre-deploy check and `starter audit --verify` call it
// with plain values — a policy and its key ring, what the release is, the
// signed envelopes, a time — and reach the same verdict from the same
// rules; no other package verifies a signature. Model: in-toto-golang's
// verifylib (one routine, driven by the signed layout, checks every step).
//
// facts.go verifies each kind of signed fact, one function per kind;
// gates.go judges one decision and replays every gate of a release over
// its decisions in order, so that a refused decision never counts;
// deploy.go is the whole judgement before a deploy; trail.go re-judges an
// exported audit trail.
package judge

import (
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// Judge judges under one pinned policy and the key ring it lists.
type Judge struct {
	Policy *policy.Policy
	Keys   attest.KeyRing
}

// New reads the policy's key ring.
func New(p *policy.Policy) (*Judge, error) {
	keys, err := p.KeyRing()
	if err != nil {
		return nil, err
	}
	return &Judge{Policy: p, Keys: keys}, nil
}

// Release is what one release run is, as whoever relies on its evidence
// knows it (the deploy role from the server, not from its caller).
type Release struct {
	ID, RunID            string
	Service, Environment string
	Commit, Digest       string
	PolicyHash           string
	// Promotes is the release whose artifact this one deploys ("" when it
	// built its own).
	Promotes string
}

// Binding is what every signed fact of the release is bound to.
func (r Release) Binding() attest.Binding {
	return attest.Binding{Release: r.ID, PolicySHA256: r.PolicyHash}
}

// Scope is what a decision or cancel for this run names.
func (r Release) Scope() attest.Scope {
	return attest.Scope{Service: r.Service, Environment: r.Environment, RunID: r.RunID}
}

// Fact verifies env as role's statement of predicateType about subject,
// decodes its predicate into pred and checks the binding bound() reads
// from it against want: the only place a key ring's Verify is called.
// Its errors are the attest errors themselves (workflow histories record
// their text).
func (j *Judge) Fact(env attest.Envelope, role, predicateType string, subject attest.Subject,
	pred any, bound func() attest.Binding, want attest.Binding) (attest.Fact, error) {
	f, err := j.Verify(env, role, predicateType)
	if err != nil {
		return f, err
	}
	if err := f.CheckSubject(subject); err != nil {
		return f, err
	}
	if err := f.Decode(pred); err != nil {
		return f, err
	}
	return f, bound().Check(want)
}

// Signed verifies env as role's statement of predicateType and decodes it,
// with no subject or binding yet (a promoted provenance, a seal, an
// auditor's first look): the caller checks them.
func (j *Judge) Signed(env attest.Envelope, role, predicateType string, pred any) (attest.Fact, error) {
	f, err := j.Verify(env, role, predicateType)
	if err == nil {
		err = f.Decode(pred)
	}
	return f, err
}

// Verify checks env's signature is role's and its statement is of
// predicateType: the one call of a key ring's Verify in foureyes.
func (j *Judge) Verify(env attest.Envelope, role, predicateType string) (attest.Fact, error) {
	return j.Keys.Verify(env, role, predicateType)
}
