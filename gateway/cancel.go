package gateway

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
)

// pendingCancelReason answers a cancel sent to a release that predates
// signed cancels: the signal has no outcome to wait for.
const pendingCancelReason = "cancel sent to a release that predates signed cancels; its status shows whether it was taken"

func validateCancel(q api.CancelReleaseRequest) *badRequest {
	switch {
	case q.ReleaseID == "":
		return invalid("release_id is required")
	case !validID(q.ReleaseID):
		return invalid("field release_id: must be at most %d printable characters without spaces", maxIDLen)
	case q.RequestID != "" && !validID(q.RequestID):
		return invalid("field request_id: must be at most %d printable characters without spaces", maxIDLen)
	case len(q.Reason) > maxCommentLen:
		return invalid("field reason: longer than %d bytes", maxCommentLen)
	}
	return nil
}

// cancelChannel tells the starter CLI from other API clients. It is only a
// label in the attestation: the identity comes from the token either way.
func cancelChannel(r *http.Request) string {
	if strings.HasPrefix(r.UserAgent(), api.StarterUserAgent) {
		return api.ChannelCLI
	}
	return api.ChannelAPI
}

func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	c, ok := s.admit(w, r, cancelChannel(r))
	if !ok {
		return
	}
	var req api.CancelReleaseRequest
	bad := decodeStrict(w, r, s.maxBody, &req)
	if bad == nil {
		bad = validateCancel(req)
	}
	if bad != nil {
		s.log.Info("cancel rejected", "identity", c.identity, "status", bad.status, "error", bad.msg)
		writeError(w, bad.status, bad.msg)
		return
	}
	if req.RequestID == "" {
		req.RequestID = uuid.NewString()
	}
	ctx, end := s.inRelease(r.Context(), "cancel", req.ReleaseID)
	ans, status := s.cancel(ctx, c, req)
	defer end(status, attribute.String("foureyes.identity", c.identity), attribute.String("foureyes.outcome", ans.Outcome))
	s.log.InfoContext(ctx, "cancel", "WorkflowID", req.ReleaseID, "identity", c.identity, "channel", c.channel,
		"request_id", req.RequestID, "outcome", ans.Outcome, "reason", ans.Reason, "error", ans.Error, "status", status)
	writeJSON(w, status, ans)
}

// cancel takes one authenticated cancel to the release: signed, as the
// cancel Update, or as the unsigned signal for a release that predates it.
func (s *Server) cancel(ctx context.Context, c caller, req api.CancelReleaseRequest) (api.Answer, int) {
	ans := api.Answer{ReleaseID: req.ReleaseID, Identity: c.identity, RequestID: req.RequestID}
	req.RequestID = api.ScopedRequestID(c.identity, req.RequestID)
	bd, err := s.binding(ctx, req.ReleaseID)
	switch {
	case err != nil:
		return s.signalFailed(ctx, ans, err)
	case bd.Signed:
		return s.cancelSigned(ctx, c, req, bd, ans)
	}
	return s.cancelUnsigned(ctx, c, req, ans)
}

// cancelSigned signs the cancel (about the release: it may come before
// there is an artifact) and sends it as the cancel Update.
func (s *Server) cancelSigned(ctx context.Context, c caller, req api.CancelReleaseRequest, bd api.Binding, ans api.Answer) (api.Answer, int) {
	pred := attest.Cancel{Binding: attest.Binding{Release: req.ReleaseID, PolicySHA256: bd.PolicyHash}, Scope: scopeOf(bd),
		RequestID: req.RequestID, Identity: c.identity, Channel: c.channel, Reason: req.Reason,
		Evidence: c.evidence, At: time.Now().UTC()}
	env, key, err := attestOnce(s, req.RequestID, attest.ReleaseSubject(req.ReleaseID), attest.PredicateCancel, pred,
		func(p *attest.Cancel) { p.At, p.Evidence = time.Time{}, attest.Evidence{} })
	if err != nil {
		return s.signFailed(ans, err)
	}
	var out api.CancelOutcome
	if err := s.updateOnce(ctx, bd, key, req.RequestID, api.UpdateCancel, env, &out); err != nil {
		return s.updateFailed(ctx, ans, err)
	}
	ans.Outcome, ans.Rule, ans.Reason = out.Outcome, out.Rule, out.Reason
	return ans, outcomeStatus(out.Outcome)
}

func (s *Server) cancelUnsigned(ctx context.Context, c caller, req api.CancelReleaseRequest, ans api.Answer) (api.Answer, int) {
	sig := api.CancelRequest{RequestID: req.RequestID, Identity: c.identity, Channel: c.channel, Reason: req.Reason}
	sctx, cancel := context.WithTimeout(ctx, temporalTimeout)
	err := s.client.SignalWorkflow(sctx, req.ReleaseID, "", api.SignalCancel, sig)
	cancel()
	if err != nil {
		return s.signalFailed(ctx, ans, err)
	}
	ans.Outcome, ans.Reason = api.OutcomePending, pendingCancelReason
	return ans, http.StatusAccepted
}
