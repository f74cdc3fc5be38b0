package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/google/uuid"
	historypb "go.temporal.io/api/history/v1"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/demokeys"
)

// ownSigned is foureyes decided with each decider's own SSH signature (issue
// "People prove their own decisions"): prepare asks the gateway for the
// statement and signs it, as the person's tool does before they send;
// decide sends it, and only decide is timed, as for the other systems.
type ownSigned struct {
	*foureyes
	mu       sync.Mutex
	prepared map[string]api.DecisionRequest // id/gate -> the signed decision
}

func newOwnSigned(r *rig) *ownSigned {
	return &ownSigned{foureyes: newFoureyes(r), prepared: map[string]api.DecisionRequest{}}
}

func (s *ownSigned) name() string { return "foureyes, own signatures" }

func (s *ownSigned) prepare(ctx context.Context, id, gate string) error {
	who := s.signers[gate]
	req := api.DecisionRequest{ReleaseID: id, Gate: gate, Verdict: "approve", RequestID: uuid.NewString(), Comment: "bench"}
	offer, err := s.r.Statement(ctx, who, req)
	if err != nil {
		return err
	}
	if req.Proof, err = attest.SignSSH(offer.Statement, demokeys.Signer(who)); err != nil {
		return err
	}
	s.mu.Lock()
	s.prepared[id+"/"+gate] = req
	s.mu.Unlock()
	return nil
}

func (s *ownSigned) decide(ctx context.Context, id, gate string) error {
	s.mu.Lock()
	req, ok := s.prepared[id+"/"+gate]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("no signed decision prepared for %s at %s", id, gate)
	}
	code, a, err := s.r.DecideOnce(ctx, s.signers[gate], req)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("decision answered %d: %s: %s", code, a.Outcome, a.Reason)
	}
	return err
}

func (s *ownSigned) next(gate string, a *historypb.ActivityTaskScheduledEventAttributes) bool {
	return s.foureyes.next(gate, a)
}

// preparer is a system with untimed work before each decision.
type preparer interface {
	prepare(ctx context.Context, id, gate string) error
}
