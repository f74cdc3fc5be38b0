package gateway

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/foureyes/foureyes/api"
)

// maxBatch bounds the releases of one batch.
const maxBatch = 20

// validate: an approval (a rejection is one release's own business), of at
// most maxBatch distinct releases.
func validateBatch(q *api.BatchRequest) *badRequest {
	if bad := validateDecision(q.DecisionRequest); bad != nil {
		return bad
	}
	if q.Verdict != api.VerdictApprove {
		return invalid("field verdict: only an approval is taken for several releases; reject each on its own")
	}
	ids := []string{q.ReleaseID}
	for _, id := range q.Releases {
		if !validID(id) || id == "" {
			return invalid("field release_ids: must be at most %d printable characters without spaces", maxIDLen)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > maxBatch {
		return invalid("field release_ids: at most %d releases at once", maxBatch)
	}
	q.Releases = ids
	return nil
}

func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request) {
	c, ok := s.admit(w, r, api.ChannelAPI)
	if !ok {
		return
	}
	var req api.BatchRequest
	bad := decodeStrict(w, r, s.maxBody, &req)
	if bad == nil {
		bad = validateBatch(&req)
	}
	if bad != nil {
		writeError(w, bad.status, bad.msg)
		return
	}
	if req.RequestID == "" {
		req.RequestID = uuid.NewString()
	}
	ans := s.decideAll(r.Context(), c, req)
	writeJSON(w, batchStatus(ans), ans)
}

// batchStatus is 200 when every release took the decision, 207 when some
// did not (each answer says why), or the error's status.
func batchStatus(b api.BatchAnswer) int {
	if b.Error != "" {
		return http.StatusConflict
	}
	for _, a := range b.Answers {
		if a.Outcome != api.OutcomeAccepted {
			return http.StatusMultiStatus
		}
	}
	return http.StatusOK
}

// decideAll decides every release of the batch whose artifact is the named
// release's; one refusing gate does not stop the others. A release of
// another artifact is not decided (its answer says so).
func (s *Server) decideAll(ctx context.Context, c caller, req api.BatchRequest) api.BatchAnswer {
	first, err := s.binding(ctx, req.ReleaseID)
	if err == nil && (!first.Signed || first.ArtifactDigest == "") {
		err = fmt.Errorf("release %s has no signed artifact yet: nothing to match the others with", req.ReleaseID)
	}
	if err != nil {
		return api.BatchAnswer{Error: "release " + req.ReleaseID + ": " + err.Error()}
	}
	out := api.BatchAnswer{Digest: first.ArtifactDigest}
	for _, id := range req.Releases {
		one := req.DecisionRequest
		one.ReleaseID = id
		out.Answers = append(out.Answers, s.decideSame(ctx, c, one, first.ArtifactDigest))
	}
	return out
}

// decideSame decides one release of the batch if it runs digest.
func (s *Server) decideSame(ctx context.Context, c caller, req api.DecisionRequest, digest string) api.Answer {
	ans := api.Answer{ReleaseID: req.ReleaseID, Gate: req.Gate, Identity: c.identity, RequestID: req.RequestID}
	ctx, end := s.inRelease(ctx, "decide", req.ReleaseID)
	status := http.StatusConflict
	bd, err := s.binding(ctx, req.ReleaseID)
	switch {
	case err != nil:
		ans.Error = "not decided: " + err.Error()
	case bd.ArtifactDigest != digest:
		ans.Error = fmt.Sprintf("not decided: it runs artifact %q, not sha256:%s", "sha256:"+bd.ArtifactDigest, digest)
	default:
		ans, status = s.decide(ctx, c, req)
	}
	defer end(status, decisionAttrs(c, req, ans)...)
	s.log.InfoContext(ctx, "decision", "batch", true, "WorkflowID", req.ReleaseID, "gate", req.Gate, "verdict", req.Verdict,
		"identity", c.identity, "channel", c.channel, "request_id", req.RequestID, "outcome", ans.Outcome,
		"reason", ans.Reason, "error", ans.Error)
	return ans
}
