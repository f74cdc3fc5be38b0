package workflows

import (
	"errors"
	"fmt"
	"sync"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/judge"
	"github.com/foureyes/foureyes/policy"
)

// pin is what a release is judged under: the policy it pinned at start,
// the keys that policy names, and the release and run every signed fact
// must be bound to.
type pin struct {
	release string // the workflow id
	run     string // this run's id: scoped statements name it
	policy  policy.Policy
	hash    string // of the policy's content, computed here
	keys    attest.KeyRing
}

// ready reports whether the policy is pinned: decisions before are refused.
func (p *pin) ready() bool { return p.hash != "" }

// judge is the one judge under the pinned policy and keys.
func (p *pin) judge() *judge.Judge {
	return &judge.Judge{Policy: &p.policy, Keys: p.keys}
}

// binding is what every signed fact of this release must be bound to.
func (p *pin) binding() attest.Binding {
	return attest.Binding{Release: p.release, PolicySHA256: p.hash}
}

// fact checks env as a fact of role about subject, bound to this release,
// and decodes its predicate into pred. bound extracts the binding.
func (p *pin) fact(env attest.Envelope, role, predicateType string, subject attest.Subject,
	pred any, bound func() attest.Binding) error {
	_, err := p.judge().Fact(env, role, predicateType, subject, pred, bound, p.binding())
	return err
}

// take pins the policy the release received: what LoadPolicy claims about
// the file (its hash, its decoding) is not trusted.
func (p *pin) take(snap policy.Snapshot) error {
	pp, hash, err := pinContent(snap)
	if err != nil {
		return err
	}
	p.policy, p.hash, p.keys = pp.pol, hash, pp.keys
	return nil
}

// snapContent is the policy file's bytes as LoadPolicy answered them: as
// they are, or compressed (versionLeanHistory), never both. Decompressing is
// deterministic, so a replay pins what the release pinned.
func snapContent(snap policy.Snapshot) ([]byte, error) {
	switch {
	case len(snap.Content) > 0 && len(snap.Compressed) > 0:
		return nil, errors.New("LoadPolicy answered the policy's content twice, compressed and not: which one counts is not for it to say")
	case len(snap.Compressed) > 0:
		return policy.DecompressPinned(snap.Compressed)
	case len(snap.Content) == 0:
		return nil, errors.New("LoadPolicy answered without the policy's content")
	}
	return snap.Content, nil
}

// parsed holds one policy and key ring per content hash for the worker's
// releases: the hash is computed here from the content, so sharing is safe.
var parsed sync.Map // hash -> pinnedPolicy

type pinnedPolicy struct {
	pol  policy.Policy
	keys attest.KeyRing
}

// pinContent parses the policy's content and computes its hash.
func pinContent(snap policy.Snapshot) (pinnedPolicy, string, error) {
	content, err := snapContent(snap)
	if err != nil {
		return pinnedPolicy{}, "", err
	}
	hash := policy.HashBytes(content)
	if v, ok := parsed.Load(hash); ok {
		return v.(pinnedPolicy), hash, nil
	}
	p, err := policy.Parse(snap.Path, content)
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
