package gateway

import (
	"context"
	"errors"
	"sync"

	"go.temporal.io/api/serviceerror"

	"github.com/foureyes/foureyes/workflows"
)

// maxBindings bounds the binding cache.
const maxBindings = 4096

// bindings caches each release's binding once its artifact digest is known:
// from then on neither the digest nor the pinned policy changes, so a
// decision costs one Update and no query.
type bindings struct {
	mu sync.Mutex
	m  map[string]workflows.Binding
}

func (b *bindings) get(release string) (workflows.Binding, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bd, ok := b.m[release]
	return bd, ok
}

// put keeps a binding with a digest, making room by forgetting any one
// release (a forgotten one is queried again: nothing is lost but a query).
func (b *bindings) put(bd workflows.Binding) {
	if bd.ArtifactDigest == "" || bd.ReleaseID == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]workflows.Binding{}
	}
	for id := range b.m {
		if len(b.m) < maxBindings {
			break
		}
		delete(b.m, id)
	}
	b.m[bd.ReleaseID] = bd
}

// binding learns what a signed decision on release must be bound to. A
// release whose workflow does not answer QueryBinding predates signed
// decisions: it is treated as unsigned (Signed false), which the workflow
// of a signed release refuses, so the fallback cannot downgrade one.
func (s *Server) binding(ctx context.Context, release string) (workflows.Binding, error) {
	if bd, ok := s.bindings.get(release); ok {
		return bd, nil
	}
	ctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	defer cancel()
	var bd workflows.Binding
	v, err := s.client.QueryWorkflow(ctx, release, "", workflows.QueryBinding)
	if err == nil {
		err = v.Get(&bd)
	}
	var qf *serviceerror.QueryFailed
	if errors.As(err, &qf) {
		return workflows.Binding{ReleaseID: release}, nil
	}
	if err != nil {
		return bd, err
	}
	bd.ReleaseID = release
	s.bindings.put(bd)
	return bd, nil
}
