package gateway

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/foureyes/foureyes/workflows"
)

// BatchPath is POST /v1/decisions/all-for-digest: one approval of one
// change for several queued releases of the same artifact (staging and
// prod, say). Each release is still decided on its own: its own signed
// decision, judged by its own gate, recorded in its own trail.
const BatchPath = "/v1/decisions/all-for-digest"

// maxBatch bounds the releases of one batch.
const maxBatch = 20

// BatchRequest is the body of POST /v1/decisions/all-for-digest: the
// decision of Request for ReleaseID and every one of Releases, which must
// all run the artifact ReleaseID runs.
type BatchRequest struct {
	Request
	Releases []string `json:"release_ids"`
}

// BatchAnswer reports the decision per release, the named one first.
type BatchAnswer struct {
	Digest  string   `json:"artifact_digest"`
	Answers []Answer `json:"answers"`
	Error   string   `json:"error,omitempty"`
}

// validate: an approval (a rejection is one release's own business), of at
// most maxBatch distinct releases.
func (q *BatchRequest) validate() *badRequest {
	if bad := q.Request.validate(); bad != nil {
		return bad
	}
	if q.Verdict != workflows.VerdictApprove {
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
	c, ok := s.admit(w, r, workflows.ChannelAPI)
	if !ok {
		return
	}
	var req BatchRequest
	bad := decodeStrict(w, r, s.maxBody, &req)
	if bad == nil {
		bad = req.validate()
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
func batchStatus(b BatchAnswer) int {
	if b.Error != "" {
		return http.StatusConflict
	}
	for _, a := range b.Answers {
		if a.Outcome != workflows.OutcomeAccepted {
			return http.StatusMultiStatus
		}
	}
	return http.StatusOK
}

// decideAll decides every release of the batch whose artifact is the named
// release's; one refusing gate does not stop the others. A release of
// another artifact is not decided (its answer says so).
func (s *Server) decideAll(ctx context.Context, c caller, req BatchRequest) BatchAnswer {
	first, err := s.binding(ctx, req.ReleaseID)
	if err == nil && (!first.Signed || first.ArtifactDigest == "") {
		err = fmt.Errorf("release %s has no signed artifact yet: nothing to match the others with", req.ReleaseID)
	}
	if err != nil {
		return BatchAnswer{Error: "release " + req.ReleaseID + ": " + err.Error()}
	}
	out := BatchAnswer{Digest: first.ArtifactDigest}
	for _, id := range req.Releases {
		one := req.Request
		one.ReleaseID = id
		out.Answers = append(out.Answers, s.decideSame(ctx, c, one, first.ArtifactDigest))
	}
	return out
}

// decideSame decides one release of the batch if it runs digest.
func (s *Server) decideSame(ctx context.Context, c caller, req Request, digest string) Answer {
	ans := Answer{ReleaseID: req.ReleaseID, Gate: req.Gate, Identity: c.identity, RequestID: req.RequestID}
	bd, err := s.binding(ctx, req.ReleaseID)
	switch {
	case err != nil:
		ans.Error = "not decided: " + err.Error()
	case bd.ArtifactDigest != digest:
		ans.Error = fmt.Sprintf("not decided: it runs artifact %q, not sha256:%s", "sha256:"+bd.ArtifactDigest, digest)
	default:
		ans, _ = s.decide(ctx, c, req)
	}
	s.log.Info("decision", "batch", true, "WorkflowID", req.ReleaseID, "gate", req.Gate, "verdict", req.Verdict,
		"identity", c.identity, "channel", c.channel, "request_id", req.RequestID, "outcome", ans.Outcome,
		"reason", ans.Reason, "error", ans.Error)
	return ans
}
