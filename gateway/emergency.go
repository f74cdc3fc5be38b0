package gateway

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
)

func validateEmergency(q api.EmergencyRequest) *badRequest {
	switch {
	case q.ReleaseID == "" || !validID(q.ReleaseID):
		return invalid("field release_id: required, at most %d printable characters without spaces", maxIDLen)
	case !api.ValidName(q.Service):
		return invalid("field service: required, a name (letters, digits, . _ -)")
	case !api.ValidName(q.Environment):
		return invalid("field environment: required, a name (letters, digits, . _ -)")
	case strings.TrimSpace(q.Reason) == "":
		return invalid("field reason: an emergency needs a reason")
	case len(q.Reason) > maxCommentLen:
		return invalid("field reason: longer than %d bytes", maxCommentLen)
	}
	return nil
}

// handleEmergency signs a release manager's break-glass declaration,
// bound to the release id and this gateway's policy. The release and the
// deploy role judge it again with their pinned policy.
func (s *Server) handleEmergency(w http.ResponseWriter, r *http.Request) {
	c, ok := s.admit(w, r, cancelChannel(r))
	if !ok {
		return
	}
	var req api.EmergencyRequest
	bad := decodeStrict(w, r, s.maxBody, &req)
	if bad == nil {
		bad = validateEmergency(req)
	}
	if bad == nil && !s.policy.IsReleaseManager(c.identity) {
		bad = &badRequest{status: http.StatusForbidden, msg: c.identity + " is not a release manager: only release managers declare emergencies"}
	}
	if bad != nil {
		s.log.Info("emergency rejected", "identity", c.identity, "status", bad.status, "error", bad.msg)
		writeError(w, bad.status, bad.msg)
		return
	}
	if req.RequestID == "" {
		req.RequestID = uuid.NewString()
	}
	pred := attest.Emergency{Binding: attest.Binding{Release: req.ReleaseID, PolicySHA256: s.policyHash},
		Scope:     attest.Scope{Service: req.Service, Environment: req.Environment},
		RequestID: api.ScopedRequestID(c.identity, req.RequestID), Identity: c.identity, Channel: c.channel,
		Reason: req.Reason, Evidence: c.evidence, At: time.Now().UTC()}
	env, err := s.attest(attest.ReleaseSubject(req.ReleaseID), attest.PredicateEmergency, pred)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	s.log.Warn("emergency declared", "WorkflowID", req.ReleaseID, "identity", c.identity, "reason", req.Reason)
	writeJSON(w, http.StatusOK, api.EmergencyAnswer{ReleaseID: req.ReleaseID, Identity: c.identity, Envelope: env})
}
