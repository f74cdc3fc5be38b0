package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/foureyes/foureyes/api"
)

// pendingReason answers a decision whose outcome did not come in time.
const pendingReason = "not processed yet; send it again with the same request_id to learn its outcome"

// Polling of QueryDecision after the signal.
const (
	pollFirst = 10 * time.Millisecond
	pollMax   = 50 * time.Millisecond
)

func (s *Server) handleDecision(w http.ResponseWriter, r *http.Request) {
	c, ok := s.admit(w, r, api.ChannelAPI)
	if !ok {
		return
	}
	req, bad := decodeRequest(w, r, s.maxBody)
	if bad == nil && req.Proof != nil {
		bad = s.checkProof(c.identity, req)
	}
	if bad != nil {
		s.log.Info("decision rejected", "identity", c.identity, "status", bad.status, "error", bad.msg)
		writeError(w, bad.status, bad.msg)
		return
	}
	if req.RequestID == "" {
		req.RequestID = uuid.NewString()
	}
	ctx, end := s.inRelease(r.Context(), "decide", req.ReleaseID)
	ans, status := s.decide(ctx, c, req)
	s.log.InfoContext(ctx, "decision", "WorkflowID", req.ReleaseID, "stage", api.StageOfGate(req.Gate), "gate", req.Gate, "verdict", req.Verdict,
		"identity", c.identity, "request_id", req.RequestID, "outcome", ans.Outcome,
		"reason", ans.Reason, "error", ans.Error, "status", status)
	end(status, decisionAttrs(c, req, ans)...)
	writeJSON(w, status, ans)
}

// admit lets a POST through once its bearer token names an identity that
// is within its rate limit; otherwise it answers 405, 401 or 429.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, channel string) (caller, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed: use POST")
		return caller{}, false
	}
	c, ok := s.authenticate(w, r)
	if !ok || s.limited(w, c.identity) {
		return caller{}, false
	}
	c.channel = channel
	return c, true
}

// authenticate maps the bearer token to a policy identity or answers 401.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (caller, bool) {
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		s.log.Warn("request unauthenticated", "path", r.URL.Path, "remote", r.RemoteAddr, "error", "missing or malformed bearer token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="foureyes"`)
		writeError(w, http.StatusUnauthorized, "missing or malformed Authorization: Bearer token")
		return caller{}, false
	}
	var identity string
	if s.policy != nil {
		identity, ok = s.policy.IdentityForToken(token)
	}
	if !ok {
		s.log.Warn("request unauthenticated", "path", r.URL.Path, "remote", r.RemoteAddr, "error", "unknown token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="foureyes", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "unknown token")
		return caller{}, false
	}
	return caller{identity: identity, evidence: tokenEvidence(token)}, true
}

// decide takes one authenticated decision to the release: signed, as the
// decide Update, when the release takes signed decisions; as the unsigned
// signal for a release that predates them.
func (s *Server) decide(ctx context.Context, c caller, req api.DecisionRequest) (api.Answer, int) {
	ans := api.Answer{ReleaseID: req.ReleaseID, Gate: req.Gate, Identity: c.identity, RequestID: req.RequestID}
	req.RequestID = api.ScopedRequestID(c.identity, req.RequestID)
	out, status, err := s.decideBound(ctx, c, req, ans)
	if err != nil && s.bindings.confirmed(req.ReleaseID) {
		// The binding came from a prompt and its Update failed (a release
		// from before signed decisions has no decide Update): ask the
		// release itself. The same update id makes a repeat harmless.
		s.bindings.forget(req.ReleaseID)
		out, status, err = s.decideBound(ctx, c, req, ans)
	}
	if err != nil {
		return s.updateFailed(ctx, ans, err)
	}
	return out, status
}

// decideBound decides against the release's binding; err is the decide
// Update's failure, for decide to retry or answer.
func (s *Server) decideBound(ctx context.Context, c caller, req api.DecisionRequest, ans api.Answer) (api.Answer, int, error) {
	bd, err := s.binding(ctx, req.ReleaseID)
	switch {
	case err != nil:
		out, status := s.signalFailed(ctx, ans, err)
		return out, status, nil
	case bd.Signed:
		return s.decideSigned(ctx, c, req, bd, ans)
	}
	out, status := s.decideUnsigned(ctx, c, req, ans)
	return out, status, nil
}

// decideUnsigned signals the release and polls for the workflow's outcome.
func (s *Server) decideUnsigned(ctx context.Context, c caller, req api.DecisionRequest, ans api.Answer) (api.Answer, int) {
	d := api.Decision{RequestID: req.RequestID, Gate: req.Gate, Verdict: req.Verdict,
		Identity: c.identity, Channel: c.channel, Comment: req.Comment}
	sctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	err := s.client.SignalWorkflow(sctx, req.ReleaseID, "", api.SignalDecision, d)
	cancel()
	if err != nil {
		return s.signalFailed(ctx, ans, err)
	}
	out, err := s.awaitOutcome(ctx, req.ReleaseID, req.RequestID)
	if err != nil {
		return s.signalFailed(ctx, ans, err)
	}
	ans.Outcome, ans.Rule, ans.Reason, ans.GateState = out.Outcome, out.Rule, out.Reason, out.GateState
	return ans, outcomeStatus(out.Outcome)
}

func outcomeStatus(outcome string) int {
	switch outcome {
	case api.OutcomeAccepted:
		return http.StatusOK
	case api.OutcomeRefused:
		return http.StatusForbidden
	case api.OutcomeGateClosed:
		return http.StatusConflict
	}
	return http.StatusAccepted
}

// awaitOutcome polls QueryDecision until the outcome is known or
// DecisionWait passes (then it reports pending).
func (s *Server) awaitOutcome(ctx context.Context, releaseID, requestID string) (api.DecisionOutcome, error) {
	ctx, cancel := context.WithTimeout(ctx, s.decisionWait)
	defer cancel()
	last := api.DecisionOutcome{RequestID: requestID, Outcome: api.OutcomePending}
	for delay := pollFirst; ; delay = min(delay*3/2, pollMax) {
		out, err := s.queryOutcome(ctx, releaseID, requestID)
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			return out, err
		case err == nil && out.Outcome != api.OutcomePending && out.Outcome != "":
			return out, nil
		case err == nil:
			last.GateState = out.GateState
		}
		select {
		case <-ctx.Done():
			last.Reason = pendingReason
			return last, nil
		case <-time.After(delay):
		}
	}
}

func (s *Server) queryOutcome(ctx context.Context, releaseID, requestID string) (api.DecisionOutcome, error) {
	var out api.DecisionOutcome
	v, err := s.client.QueryWorkflow(ctx, releaseID, "", api.QueryDecision, requestID)
	if err != nil {
		return out, err
	}
	return out, v.Get(&out)
}

// signalFailed maps a Temporal error to an answer: unknown release (404),
// ended release (409 gate_closed), bad id (400) or Temporal unreachable (503).
func (s *Server) signalFailed(ctx context.Context, ans api.Answer, err error) (api.Answer, int) {
	var nf *serviceerror.NotFound
	var ia *serviceerror.InvalidArgument
	switch {
	case errors.As(err, &nf):
		return s.notFound(ctx, ans)
	case errors.As(err, &ia):
		ans.Error = "invalid release: " + ia.Message
		return ans, http.StatusBadRequest
	}
	s.log.Error("temporal call failed", "release", ans.ReleaseID, "error", err)
	ans.Error = "temporal unavailable, try again"
	return ans, http.StatusServiceUnavailable
}

// notFound tells an unknown release from one that has already ended.
func (s *Server) notFound(ctx context.Context, ans api.Answer) (api.Answer, int) {
	ctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	defer cancel()
	desc, err := s.client.DescribeWorkflowExecution(ctx, ans.ReleaseID, "")
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		ans.Error = "unknown release"
		return ans, http.StatusNotFound
	case err != nil:
		s.log.Error("temporal describe failed", "release", ans.ReleaseID, "error", err)
		ans.Error = "temporal unavailable, try again"
		return ans, http.StatusServiceUnavailable
	case desc.GetWorkflowExecutionInfo().GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_RUNNING:
		ans.Outcome, ans.Rule, ans.Reason, ans.GateState = api.OutcomeGateClosed, api.RuleGateClosed, "release has ended", "closed"
		return ans, http.StatusConflict
	}
	ans.Error = "release is running but did not take the decision, try again"
	return ans, http.StatusServiceUnavailable
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
