package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
)

// caller is an authenticated caller and the evidence the gateway checked.
type caller struct {
	identity string
	channel  string
	evidence attest.Evidence
}

// tokenEvidence names a bearer token without revealing it.
func tokenEvidence(token string) attest.Evidence {
	sum := sha256.Sum256([]byte(token))
	return attest.Evidence{Kind: "token", TokenFingerprint: hex.EncodeToString(sum[:])[:16]}
}

// errNoSigner: the release takes only signed decisions and this gateway has
// no approval key to sign them with.
var errNoSigner = errors.New("the gateway has no approval signing key")

// decideSigned signs the decision for the release's binding and sends it as
// the decide Update, whose result is the workflow's verdict on it.
func (s *Server) decideSigned(ctx context.Context, c caller, req api.DecisionRequest, bd api.Binding, ans api.Answer) (api.Answer, int, error) {
	if bd.ArtifactDigest == "" {
		ans.Outcome, ans.Rule, ans.GateState = api.OutcomeGateClosed, api.RuleGateClosed, "closed"
		ans.Reason = "no gate is open: the release has no attested artifact yet"
		return ans, http.StatusConflict, nil
	}
	pred := attest.Decision{Binding: attest.Binding{Release: req.ReleaseID, PolicySHA256: bd.PolicyHash}, Scope: scopeOf(bd),
		RequestID: req.RequestID, Gate: req.Gate, Verdict: req.Verdict, Identity: c.identity,
		Channel: c.channel, Comment: req.Comment, Evidence: c.evidence, At: time.Now().UTC(), Proof: req.Proof}
	env, key, err := attestOnce(s, req.RequestID, attest.ArtifactSubject(bd.ArtifactDigest), attest.PredicateDecision, pred,
		func(p *attest.Decision) { p.At, p.Evidence = time.Time{}, attest.Evidence{} })
	if err != nil {
		out, status := s.signFailed(ans, err)
		return out, status, nil
	}
	var out api.DecisionOutcome
	if err := s.updateOnce(ctx, bd, key, req.RequestID, api.UpdateDecide, env, &out); err != nil {
		return ans, 0, err
	}
	s.bindings.confirmed(req.ReleaseID)
	ans.Outcome, ans.Rule, ans.Reason, ans.GateState = out.Outcome, out.Rule, out.Reason, out.GateState
	return ans, outcomeStatus(out.Outcome), nil
}

// scopeOf is the scope of statements for a release: its service,
// environment and run as its workflow answered them. A workflow that lies
// here gets statements that count nowhere: the deploy role checks the
// scope against the run the server says called it.
func scopeOf(bd api.Binding) attest.Scope {
	return attest.Scope{Service: bd.Service, Environment: bd.Environment, RunID: bd.RunID}
}

func (s *Server) attest(subject attest.Subject, predicateType string, pred any) (attest.Envelope, error) {
	if s.signer == nil {
		return nil, errNoSigner
	}
	return s.signer.Attest(subject, predicateType, pred)
}

// attestOnce signs pred for the Update updateID once: a retry of the same
// request (the same content once strip has removed its time and evidence)
// gets the first envelope again (requests.go says why).
// It returns the request's key, for answered once the outcome is known.
func attestOnce[P any](s *Server, updateID string, subject attest.Subject, predicateType string, pred P, strip func(*P)) (attest.Envelope, string, error) {
	content := pred
	strip(&content)
	key, err := requestKey(updateID, struct {
		Subject attest.Subject
		Type    string
		Content P
	}{subject, predicateType, content})
	if err != nil {
		return nil, "", err
	}
	env, err := s.requests.once(key, func() (attest.Envelope, error) { return s.attest(subject, predicateType, pred) })
	return env, key, err
}

// updateOnce sends the signed request of key as an Update and, once its
// outcome is known, drops its envelope (requests.go).
func (s *Server) updateOnce(ctx context.Context, bd api.Binding, key, updateID, name string, env attest.Envelope, out any) error {
	err := s.update(ctx, bd, updateID, name, env, out)
	if outcomeKnown(err) {
		s.requests.answered(key)
	}
	return err
}

func (s *Server) signFailed(ans api.Answer, err error) (api.Answer, int) {
	s.log.Error("signing failed", "release", ans.ReleaseID, "error", err)
	ans.Error = "the gateway cannot sign: " + err.Error()
	return ans, http.StatusServiceUnavailable
}

// update sends env as a signed request and waits for the handler's result.
// The update id is the scoped request id: a retry is the same update, and
// Temporal answers it with the first one's result.
// It goes to the run the statement is scoped to (any run when the release
// predates scoped statements).
func (s *Server) update(ctx context.Context, bd api.Binding, updateID, name string, env attest.Envelope, out any) error {
	ctx, cancel := context.WithTimeout(ctx, temporalTimeout+s.decisionWait)
	defer cancel()
	h, err := s.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{UpdateID: updateID, WorkflowID: bd.ReleaseID, RunID: bd.RunID,
		UpdateName: name, Args: []any{api.SignedRequest{Envelope: env}},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return err
	}
	return h.Get(ctx, out)
}

// updateFailed maps an Update's error: one the workflow refused (its
// validator, or a handler error) is 403; one still running when the wait
// ran out is pending (the same request id learns its outcome); the rest as
// for signals.
func (s *Server) updateFailed(ctx context.Context, ans api.Answer, err error) (api.Answer, int) {
	var app *temporal.ApplicationError
	var timeout *client.WorkflowUpdateServiceTimeoutOrCanceledError
	var unavailable *serviceerror.Unavailable
	switch {
	case errors.As(err, &app):
		ans.Outcome, ans.Rule, ans.Reason = api.OutcomeRefused, api.RuleOfError(app.Type()), app.Message()
		return ans, http.StatusForbidden
	case errors.As(err, &timeout) && !errors.As(err, &unavailable):
		ans.Outcome, ans.Reason = api.OutcomePending, pendingReason
		return ans, http.StatusAccepted
	}
	return s.signalFailed(ctx, ans, err)
}
