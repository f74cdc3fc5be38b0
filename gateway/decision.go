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

	"github.com/foureyes/foureyes/workflows"
)

// Answer is the JSON body of a /v1/decisions response once the caller is
// authenticated and the body is valid. Error is set (and Outcome empty) when
// the decision did not reach the workflow. Other errors answer {"error": "..."}.
type Answer struct {
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason"`
	ReleaseID string `json:"release_id"`
	Gate      string `json:"gate"`
	Identity  string `json:"identity"`
	RequestID string `json:"request_id"`
	GateState string `json:"gate_state"`
	Error     string `json:"error,omitempty"`
}

// Polling of QueryDecision after the signal.
const (
	pollFirst = 10 * time.Millisecond
	pollMax   = 50 * time.Millisecond
)

func (s *Server) handleDecision(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed: use POST")
		return
	}
	identity, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	req, bad := decodeRequest(w, r, s.maxBody)
	if bad != nil {
		s.log.Info("decision rejected", "identity", identity, "status", bad.status, "error", bad.msg)
		writeError(w, bad.status, bad.msg)
		return
	}
	if req.RequestID == "" {
		req.RequestID = uuid.NewString()
	}
	ans, status := s.decide(r.Context(), identity, workflows.ChannelAPI, req)
	s.log.Info("decision", "WorkflowID", req.ReleaseID, "stage", workflows.StageOfGate(req.Gate), "gate", req.Gate, "verdict", req.Verdict,
		"identity", identity, "request_id", req.RequestID, "outcome", ans.Outcome,
		"reason", ans.Reason, "error", ans.Error, "status", status)
	writeJSON(w, status, ans)
}

// authenticate maps the bearer token to a policy identity or answers 401.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		s.log.Warn("decision unauthenticated", "remote", r.RemoteAddr, "error", "missing or malformed bearer token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="foureyes"`)
		writeError(w, http.StatusUnauthorized, "missing or malformed Authorization: Bearer token")
		return "", false
	}
	var identity string
	if s.policy != nil {
		identity, ok = s.policy.IdentityForToken(token)
	}
	if !ok {
		s.log.Warn("decision unauthenticated", "remote", r.RemoteAddr, "error", "unknown token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="foureyes", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "unknown token")
		return "", false
	}
	return identity, true
}

// ScopedRequestID is the request id the workflow sees: the caller's, under
// the caller's identity, so that nobody can take over (or pre-empt) another
// identity's request id. Policy identities hold no "/".
func ScopedRequestID(identity, requestID string) string { return identity + "/" + requestID }

// decide signals the release and waits for the workflow's outcome.
func (s *Server) decide(ctx context.Context, identity, channel string, req Request) (Answer, int) {
	ans := Answer{ReleaseID: req.ReleaseID, Gate: req.Gate, Identity: identity, RequestID: req.RequestID}
	req.RequestID = ScopedRequestID(identity, req.RequestID)
	d := workflows.Decision{RequestID: req.RequestID, Gate: req.Gate, Verdict: req.Verdict,
		Identity: identity, Channel: channel, Comment: req.Comment}
	sctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	err := s.client.SignalWorkflow(sctx, req.ReleaseID, "", workflows.SignalDecision, d)
	cancel()
	if err != nil {
		return s.signalFailed(ctx, ans, err)
	}
	out, err := s.awaitOutcome(ctx, req.ReleaseID, req.RequestID)
	if err != nil {
		return s.signalFailed(ctx, ans, err)
	}
	ans.Outcome, ans.Reason, ans.GateState = out.Outcome, out.Reason, out.GateState
	return ans, outcomeStatus(out.Outcome)
}

func outcomeStatus(outcome string) int {
	switch outcome {
	case workflows.OutcomeAccepted:
		return http.StatusOK
	case workflows.OutcomeRefused:
		return http.StatusForbidden
	case workflows.OutcomeGateClosed:
		return http.StatusConflict
	}
	return http.StatusAccepted
}

// awaitOutcome polls QueryDecision until the outcome is known or
// DecisionWait passes (then it reports pending).
func (s *Server) awaitOutcome(ctx context.Context, releaseID, requestID string) (workflows.DecisionOutcome, error) {
	ctx, cancel := context.WithTimeout(ctx, s.decisionWait)
	defer cancel()
	last := workflows.DecisionOutcome{RequestID: requestID, Outcome: workflows.OutcomePending}
	for delay := pollFirst; ; delay = min(delay*3/2, pollMax) {
		out, err := s.queryOutcome(ctx, releaseID, requestID)
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			return out, err
		case err == nil && out.Outcome != workflows.OutcomePending && out.Outcome != "":
			return out, nil
		case err == nil:
			last.GateState = out.GateState
		}
		select {
		case <-ctx.Done():
			last.Reason = "decision not processed yet; send it again with the same request_id to learn its outcome"
			return last, nil
		case <-time.After(delay):
		}
	}
}

func (s *Server) queryOutcome(ctx context.Context, releaseID, requestID string) (workflows.DecisionOutcome, error) {
	var out workflows.DecisionOutcome
	v, err := s.client.QueryWorkflow(ctx, releaseID, "", workflows.QueryDecision, requestID)
	if err != nil {
		return out, err
	}
	return out, v.Get(&out)
}

// signalFailed maps a Temporal error to an answer: unknown release (404),
// ended release (409 gate_closed), bad id (400) or Temporal unreachable (503).
func (s *Server) signalFailed(ctx context.Context, ans Answer, err error) (Answer, int) {
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
func (s *Server) notFound(ctx context.Context, ans Answer) (Answer, int) {
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
		ans.Outcome, ans.Reason, ans.GateState = workflows.OutcomeGateClosed, "release has ended", "closed"
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
