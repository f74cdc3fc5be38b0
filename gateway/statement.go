package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/judge"
)

// handleStatement answers POST /v1/statements: the statement of the
// caller's decision for them to sign with their own key.
func (s *Server) handleStatement(w http.ResponseWriter, r *http.Request) {
	c, ok := s.admit(w, r, api.ChannelAPI)
	if !ok {
		return
	}
	req, bad := decodeRequest(w, r, s.maxBody)
	if bad == nil && req.Proof != nil {
		bad = invalid("proof: ask for a statement without one")
	}
	if bad != nil {
		writeError(w, bad.status, bad.msg)
		return
	}
	if req.RequestID == "" {
		req.RequestID = uuid.NewString()
	}
	offer, err := s.Statement(r.Context(), c.identity, req)
	if err != nil {
		s.log.Info("statement refused", "WorkflowID", req.ReleaseID, "identity", c.identity, "error", err)
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, offer)
}

// Statement renders identity's decision req as the statement they sign:
// from the release's build provenance, verified with the gateway's copy of
// the policy, and the run the server names — never from prompt text.
func (s *Server) Statement(ctx context.Context, identity string, req api.DecisionRequest) (api.StatementOffer, error) {
	rel, prov, _, err := s.verifiedRelease(ctx, req.ReleaseID)
	if err != nil {
		return api.StatementOffer{}, err
	}
	pd := attest.PersonalDecision{Binding: rel.Binding(), Scope: rel.Scope(), RequestID: req.RequestID, Gate: req.Gate,
		Verdict: req.Verdict, Identity: identity, Commit: rel.Commit, Comment: req.Comment, At: time.Now().UTC()}
	st, err := attest.PersonalStatement(attest.ArtifactSubject(rel.Digest), attest.PredicatePersonalDecision, pd)
	if err != nil {
		return api.StatementOffer{}, err
	}
	return api.StatementOffer{Statement: st, Provenance: prov, Promotes: rel.Promotes,
		Proof: s.policy.ProofAt(rel.Environment, req.Gate)}, nil
}

// verifiedRelease is the release as its signed provenance says (the run is
// the one the release answers: a false one only scopes the signature to a
// run that counts nowhere), with the provenance and what it says was built.
func (s *Server) verifiedRelease(ctx context.Context, release string) (judge.Release, attest.Envelope, attest.BuildParameters, error) {
	var built attest.BuildParameters
	bd, err := s.queryBinding(ctx, release)
	switch {
	case err != nil:
		return judge.Release{}, nil, built, fmt.Errorf("release %s: %v", release, err)
	case !bd.Signed || bd.ArtifactDigest == "":
		return judge.Release{}, nil, built, fmt.Errorf("release %s has no attested artifact yet: no gate is open", release)
	}
	prov, err := s.provenance(ctx, release)
	if err != nil {
		return judge.Release{}, nil, built, err
	}
	rel := judge.Release{ID: release, RunID: bd.RunID, Service: bd.Service, Environment: bd.Environment,
		Digest: bd.ArtifactDigest, PolicyHash: bd.PolicyHash, Promotes: bd.Promotes}
	rel, built, err = judge.ProvenanceOf(s.policy, rel, prov)
	return rel, prov, built, err
}

// provenance is the build provenance the release recorded in its trail.
func (s *Server) provenance(ctx context.Context, release string) (attest.Envelope, error) {
	ctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	defer cancel()
	var trail audit.Trail
	v, err := s.client.QueryWorkflow(ctx, release, "", api.QueryAudit)
	if err == nil {
		err = v.Get(&trail)
	}
	if err != nil {
		return nil, fmt.Errorf("release %s: its trail: %v", release, err)
	}
	for _, e := range trail.Entries {
		if e.Type == audit.EventStageFinished && e.Stage == api.StageCode && len(e.Envelope) > 0 {
			return attest.Envelope(e.Envelope), nil
		}
	}
	return nil, errors.New("no signed build provenance in the release's trail yet")
}

// checkProof tells a caller early that the statement they signed is not
// the decision they send, or not signed with their own key. The judge in
// the workflow and the deploy role checks it again: this is for people.
func (s *Server) checkProof(identity string, req api.DecisionRequest) *badRequest {
	j, err := judge.New(s.policy)
	if err != nil {
		return &badRequest{http.StatusServiceUnavailable, err.Error()}
	}
	signer, f, err := j.Personal(req.Proof, attest.PredicatePersonalDecision)
	if err != nil {
		return &badRequest{http.StatusForbidden, "proof: " + err.Error()}
	}
	var pd attest.PersonalDecision
	if err := f.Decode(&pd); err != nil {
		return invalid("proof: %v", err)
	}
	switch {
	case signer != identity:
		return &badRequest{http.StatusForbidden, fmt.Sprintf("proof: signed with %s's key, sent with %s's token", signer, identity)}
	case pd.ReleaseID() != req.ReleaseID || pd.Gate != req.Gate || pd.Verdict != req.Verdict ||
		pd.RequestID != req.RequestID || pd.Comment != req.Comment:
		return invalid("proof: the signed statement is not this decision (release, gate, verdict, request_id and comment must be the statement's)")
	}
	return nil
}
