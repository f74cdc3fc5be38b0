package workflows

import (
	"errors"
	"fmt"
	"sync"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/judge"
	"github.com/foureyes/foureyes/policy"
)

// refusalCap bounds what one sender's refused decisions add to a release:
// the first refusalCap are recorded, then one refusals_capped entry; later
// ones are rejected by the update validator, so they never reach history.
const refusalCap = 20

// unverifiedSender is the sender of decisions whose signature did not verify.
const unverifiedSender = "(unverified)"

// trust is what a release with signed attestations knows for certain: the
// key ring of its pinned policy and the verified envelopes it rests on.
type trust struct {
	signed     bool
	ready      bool // policy pinned, keys read
	keys       attest.KeyRing
	run        string // this run's id: scoped statements name it
	provenance attest.Envelope
	review     attest.Envelope
	decisions  []attest.Envelope // accepted decisions, in the order accepted
	refusals   map[string]int    // by sender; looked up, never iterated
	// validated holds decisions the decide validator just verified, by
	// envelope bytes, for the handler that runs right after it in the same
	// task: one signature check per decision. On replay validators do not
	// run and the handler verifies again, with the same result.
	validated map[string]api.Decision
}

// parsed holds one policy and key ring per content hash for the worker's
// releases: the hash is computed here from the content, so sharing is safe.
var parsed sync.Map // hash -> pinnedPolicy

type pinnedPolicy struct {
	pol  policy.Policy
	keys attest.KeyRing
}

// pinContent parses the policy the release received and computes its hash:
// what LoadPolicy claims about the file is not trusted.
func pinContent(snap policy.Snapshot) (pinnedPolicy, string, error) {
	if len(snap.Content) == 0 {
		return pinnedPolicy{}, "", errors.New("LoadPolicy answered without the policy's content")
	}
	hash := policy.HashBytes(snap.Content)
	if v, ok := parsed.Load(hash); ok {
		return v.(pinnedPolicy), hash, nil
	}
	p, err := policy.Parse(snap.Path, snap.Content)
	if err == nil {
		err = p.RequireKeys(snap.Path)
	}
	if err != nil {
		return pinnedPolicy{}, "", err
	}
	keys, err := p.KeyRing()
	if err != nil {
		return pinnedPolicy{}, "", fmt.Errorf("%s: keys: %w", snap.Path, err)
	}
	pp := pinnedPolicy{pol: *p, keys: keys}
	parsed.Store(hash, pp)
	return pp, hash, nil
}

// binding is what every signed fact of this release must be bound to.
func (r *release) binding() attest.Binding {
	return attest.Binding{Release: r.id, PolicySHA256: r.policyHash}
}

// verifyFact checks env as a fact of role about subject, bound to this
// release, and decodes its predicate into pred. bound extracts the binding.
func (r *release) verifyFact(env attest.Envelope, role, predicateType string, subject attest.Subject,
	pred any, bound func() attest.Binding) error {
	_, err := r.judging().Fact(env, role, predicateType, subject, pred, bound, r.binding())
	return err
}

// judging is the one judge under the release's pinned policy and keys.
func (r *release) judging() *judge.Judge {
	return &judge.Judge{Policy: &r.pol, Keys: r.trust.keys}
}

// judged is this release as the judge knows it.
func (r *release) judged() judge.Release {
	rel := judge.Release{ID: r.id, RunID: r.trust.run, Service: r.req.Service, Environment: r.req.Environment,
		Commit: r.commitSHA(), Digest: r.artifact.Digest, PolicyHash: r.policyHash}
	if r.req.Promotes != nil {
		rel.Promotes = r.req.Promotes.Release
	}
	return rel
}
