package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/audit"
)

// soak is prod's verified_for in deployments/policy.yaml.
const soak = 10 * time.Second

// TestPromotionAndEmergency runs the sample policy's promotion rule and
// break-glass path on the stack with the real starter: alice's commit goes
// to staging; a prod start at once fails on the rule; after the soak,
// `starter promote` takes the very artifact to prod (no rebuild); then rita
// declares an emergency for the next commit, which skips the rule, needs
// two approvers and leaves a follow-up review open until bob signs it. The
// histories of the promoted, refused and emergency releases are recorded
// for the replay test when RecordEnv is set.
func TestPromotionAndEmergency(t *testing.T) {
	s := startStackWith(t, nil, true)
	staging := s.startCLI("", "--service", "payments", "--env", "staging", "--commit", s.git.A)
	s.approve(staging, "review", "bob")
	s.approve(staging, "approval", "carol")
	s.waitStatus(staging, api.StatusDeployed)
	verified := time.Now()

	early := s.startCLI("", "--service", "payments", "--env", "prod", "--commit", s.git.A)
	res := s.resultOf(early)
	assert.Equal(t, api.StatusFailed, res.Status)
	assert.Contains(t, res.Reason, "staging", "refused by the promotion rule, naming staging")
	// No gate opened, no Update: the replay test knows it by this label.
	s.recordHistory(early, res, "promotion-too-early")

	time.Sleep(time.Until(verified.Add(soak + time.Second)))
	out, code := s.starter("", "promote", staging, "--to", "prod", "--requester", "rita", "--json")
	require.Equal(t, 0, code, out)
	prod := idOf(t, out)
	s.approve(prod, "review", "bob")
	s.approve(prod, "approval", "carol")
	s.approve(prod, "approval", "dave")
	res = s.resultOf(prod)
	require.Equal(t, api.StatusDeployed, res.Status, res.Reason)
	st, stStaging := s.status(prod), s.status(staging)
	assert.Equal(t, staging, st.Promotes)
	assert.Equal(t, stStaging.ArtifactDigest, st.ArtifactDigest, "the very artifact staging ran: no rebuild")
	s.checkPrincipals(prod, t.TempDir())
	s.recordHistory(prod, res, "promoted")

	s.emergency(t)
}

// emergency: rita's break-glass release of commit C to prod.
func (s *stackT) emergency(t *testing.T) {
	id := s.startCLI("rita", "--service", "payments", "--env", "prod", "--commit", s.git.C, "--emergency", "card refunds failing")
	s.approve(id, "review", "ci-bot")
	s.approve(id, "approval", "carol")
	assert.Equal(t, api.StatusAwaitingApproval, s.status(id).Status, "one approver is never enough for an emergency")
	s.approve(id, "approval", "dave")
	s.waitStatus(id, api.StatusAwaitingFollowUp)
	st := s.status(id)
	require.NotNil(t, st.Emergency, "the status shows the break-glass flag")
	out, code := s.starter("", "status", id)
	require.Equal(t, 0, code, out)
	assert.Contains(t, strings.ToLower(out), "emergency")
	// nobody signs two gates of one release: not the review's signer either
	code, ans := s.decide(id, api.GateFollowUp, "approve", "ci-bot")
	assert.Equal(t, http.StatusForbidden, code, "%+v", ans)
	assert.Equal(t, "you signed an earlier gate", ans.Reason)
	s.approve(id, api.GateFollowUp, "bob")
	res := s.resultOf(id)
	assert.Equal(t, api.StatusDeployed, res.Status, res.Reason)
	s.checkEmergencyFlags(id)
	s.checkRejudged(id)
	s.recordHistory(id, res, "emergency")
}

// checkRejudged: an honest auditor's `starter audit --verify` of the
// release's export passes and re-judges its decisions (an emergency's
// trail failed verification before: no rule said who signs its
// declaration).
func (s *stackT) checkRejudged(id string) {
	var buf bytes.Buffer
	require.NoError(s.t, audit.Export(&buf, s.trail(id)))
	file := filepath.Join(s.t.TempDir(), "emergency.jsonl")
	require.NoError(s.t, os.WriteFile(file, buf.Bytes(), 0o644))
	out, code := s.starter("", "audit", "--verify", file, "--policy", s.Local.PolicyFile())
	require.Equal(s.t, 0, code, "the emergency's export verifies: %s", out)
	assert.Contains(s.t, out, "every recorded outcome agrees")
}

// checkEmergencyFlags: the trail holds rita's signed declaration, and the
// UI's list finds the release by ReleaseEmergency.
func (s *stackT) checkEmergencyFlags(id string) {
	declared := false
	for _, e := range s.trail(id) {
		declared = declared || (e.Type == audit.EventEmergency && e.Actor == "rita")
	}
	assert.True(s.t, declared, "the trail records rita's emergency declaration")
	query := fmt.Sprintf("WorkflowId = %q AND ReleaseEmergency = true", id)
	assert.Eventually(s.t, func() bool {
		resp, err := s.Client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		return err == nil && len(resp.GetExecutions()) == 1
	}, 30*time.Second, 200*time.Millisecond, "visibility (the UI's list) finds it by %s", query)
}

// startCLI runs `starter start … --requester rita --json` (as who, for a
// token) and returns the release id.
func (s *stackT) startCLI(who string, args ...string) string {
	out, code := s.starter(who, append([]string{"start", "--requester", "rita", "--json"}, args...)...)
	require.Equal(s.t, 0, code, out)
	return idOf(s.t, out)
}

func idOf(t *testing.T, out string) string {
	var v struct {
		ID string `json:"release_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &v), out)
	require.NotEmpty(t, v.ID, out)
	return v.ID
}

// approve waits for gate to open and approves it as who, through the gateway.
func (s *stackT) approve(id, gate, who string) {
	deadline := time.Now().Add(30 * time.Second)
	for s.status(id).OpenGate != gate && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	code, ans := s.decide(id, gate, "approve", who)
	require.Equal(s.t, http.StatusOK, code, "%s approving %s at %s: %+v", who, id, gate, ans)
	require.Equal(s.t, api.OutcomeAccepted, ans.Outcome, "%s approving %s at %s: %+v", who, id, gate, ans)
}

func (s *stackT) resultOf(id string) api.ReleaseResult {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := api.ResultOf(ctx, s.Client.GetWorkflow(ctx, id, ""))
	require.NoError(s.t, err)
	return res
}
