package gateway

import (
	"context"
	"errors"
	"sync"

	"go.temporal.io/api/serviceerror"

	"github.com/foureyes/foureyes/api"
)

// maxBindings bounds the binding cache.
const maxBindings = 4096

// Bindings caches each release's binding once its artifact digest is known:
// from then on neither the digest nor the pinned policy changes, so a
// decision costs one Update and no query. The approval role shares one
// with its notifier (Prompted), so that even a gate's first decision needs
// no query: the query is a round trip through the orchestrator, about a
// third of a decision's time (docs/benchmarks.md).
type Bindings struct {
	mu     sync.Mutex
	m      map[string]api.Binding
	primed map[string]bool // learnt from a prompt, not yet confirmed by an Update
}

// Prompted learns the binding of a release whose gate was just prompted
// for, from the prompt the orchestrator sent. It is the same orchestrator
// that answers QueryBinding, so trusting its prompt adds no trust; a
// release that takes no signed decisions (from before them) fails its
// Update, and the gateway then forgets the binding and asks (decide).
func (b *Bindings) Prompted(n api.Notification) {
	release := n.ReleaseID
	if _, known := b.get(release); known || n.ArtifactDigest == "" || n.PolicyHash == "" {
		return
	}
	b.put(api.Binding{ReleaseID: release, PolicyHash: n.PolicyHash, ArtifactDigest: n.ArtifactDigest, Signed: true,
		Service: n.Service, Environment: n.Environment, RunID: n.RunID})
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.primed == nil {
		b.primed = map[string]bool{}
	}
	b.primed[release] = true
}

// confirmed ends a binding's primed state: an Update bound to it succeeded.
// It reports whether the binding had been primed.
func (b *Bindings) confirmed(release string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	was := b.primed[release]
	delete(b.primed, release)
	return was
}

// forget drops a release's binding, primed or learnt.
func (b *Bindings) forget(release string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, release)
	delete(b.primed, release)
}

func (b *Bindings) get(release string) (api.Binding, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bd, ok := b.m[release]
	return bd, ok
}

// put keeps a binding with a digest, making room by forgetting any one
// release (a forgotten one is queried again: nothing is lost but a query).
func (b *Bindings) put(bd api.Binding) {
	if bd.ArtifactDigest == "" || bd.ReleaseID == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]api.Binding{}
	}
	for id := range b.m {
		if len(b.m) < maxBindings {
			break
		}
		delete(b.m, id)
		delete(b.primed, id)
	}
	b.m[bd.ReleaseID] = bd
}

// binding learns what a signed decision on release must be bound to. A
// release whose workflow does not answer QueryBinding predates signed
// decisions: it is treated as unsigned (Signed false), which the workflow
// of a signed release refuses, so the fallback cannot downgrade one.
func (s *Server) binding(ctx context.Context, release string) (api.Binding, error) {
	if bd, ok := s.bindings.get(release); ok {
		return bd, nil
	}
	return s.queryBinding(ctx, release)
}

// queryBinding asks the release for its binding and caches it.
func (s *Server) queryBinding(ctx context.Context, release string) (api.Binding, error) {
	ctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	defer cancel()
	var bd api.Binding
	v, err := s.client.QueryWorkflow(ctx, release, "", api.QueryBinding)
	if err == nil {
		err = v.Get(&bd)
	}
	var qf *serviceerror.QueryFailed
	if errors.As(err, &qf) {
		return api.Binding{ReleaseID: release}, nil
	}
	if err != nil {
		return bd, err
	}
	bd.ReleaseID = release
	s.bindings.put(bd)
	return bd, nil
}

// Known reports whether the binding of release is cached.
func (b *Bindings) Known(release string) bool {
	_, ok := b.get(release)
	return ok
}
