package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/workflows"
)

const (
	commitA = "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"
	commitB = "b0a9f8e7d6c5b4a393f2a9c1d8e7b6a5f4e3d2c1"
)

// TestReleasesThroughTheGateway drives one release to deployed and one to
// rejected through the real gateway, with every role its own process, and
// checks the exported audit chains.
func TestReleasesThroughTheGateway(t *testing.T) {
	s := startStack(t, nil)
	t.Run("deployed", func(t *testing.T) { s.t = t; deployedRelease(s) })
	t.Run("rejected", func(t *testing.T) { s.t = t; rejectedRelease(s) })
}

func deployedRelease(s *stackT) {
	t := s.t
	run := s.start("payments", "prod", commitA, []string{"alice"}, "rita")
	id := run.GetID()
	s.waitStatus(id, workflows.StatusAwaitingReview)
	code, a := s.decide(id, "review", "approve", "bob")
	require.Equal(t, http.StatusOK, code, a.Reason)
	s.waitStatus(id, workflows.StatusAwaitingApproval)

	code, a = s.decide(id, "approval", "approve", "alice")
	assert.Equal(t, http.StatusForbidden, code)
	assert.Equal(t, workflows.OutcomeRefused, a.Outcome)
	assert.Contains(t, a.Reason, "you authored this change")
	for _, who := range []string{"carol", "dave"} {
		code, a = s.decide(id, "approval", "approve", who)
		require.Equal(t, http.StatusOK, code, a.Reason)
	}
	res := s.result(run)
	require.Equal(t, workflows.StatusDeployed, res.Status, res.Reason)

	code, a = s.decide(id, "approval", "approve", "erin")
	assert.Equal(t, http.StatusConflict, code, "a decision after the end finds the gate closed")
	checkDeployedState(t, s, id, res.ArtifactDigest)
	entries := s.trail(id)
	checkChain(t, entries, res.AuditHead)
	checkExecutors(t, entries)
	checkRefusalRecorded(t, entries, "alice", "you authored this change")
}

func rejectedRelease(s *stackT) {
	t := s.t
	run := s.start("ledger", "staging", commitB, []string{"alice"}, "rita")
	id := run.GetID()
	s.waitStatus(id, workflows.StatusAwaitingReview)
	code, a := s.decide(id, "review", "reject", "ci-bot")
	require.Equal(t, http.StatusOK, code, a.Reason)
	res := s.result(run)
	assert.Equal(t, workflows.StatusRejected, res.Status)
	assert.Contains(t, res.Reason, "rejected by ci-bot")
	_, err := os.Stat(filepath.Join(s.local.DataDir, "deployments", "staging", "ledger.json"))
	assert.True(t, os.IsNotExist(err), "a rejected release deploys nothing")
	checkChain(t, s.trail(id), res.AuditHead)
}

func (s *stackT) trail(id string) []audit.Entry {
	v, err := s.client.QueryWorkflow(context.Background(), id, "", workflows.QueryAudit)
	require.NoError(s.t, err)
	var a workflows.AuditTrail
	require.NoError(s.t, v.Get(&a))
	return a.Entries
}

// checkChain exports the chain, verifies it, and checks that changing one
// byte makes verification fail.
func checkChain(t *testing.T, entries []audit.Entry, head string) {
	var buf bytes.Buffer
	require.NoError(t, audit.Export(&buf, entries))
	exported := buf.Bytes()
	n, err := audit.Verify(bytes.NewReader(exported))
	require.NoError(t, err)
	assert.Equal(t, len(entries), n)
	assert.Equal(t, head, entries[len(entries)-1].Hash)
	tampered := bytes.Clone(exported)
	i := bytes.Index(tampered, []byte(`"actor":"`)) + len(`"actor":"`) + 1
	tampered[i] ^= 0x01
	_, err = audit.Verify(bytes.NewReader(tampered))
	assert.Error(t, err, "one changed byte must break the chain")
}

// checkExecutors: the four stages ran on four distinct worker identities,
// none of them the orchestrator's.
func checkExecutors(t *testing.T, entries []audit.Entry) {
	byStage := map[string]string{}
	for _, e := range entries {
		if e.Executor != "" && (e.Type == audit.EventStageFinished || e.Type == audit.EventDeploy) {
			byStage[e.Stage] = e.Executor
		}
	}
	require.Len(t, byStage, 4, "executors by stage: %v", byStage)
	seen := map[string]bool{}
	for stage, who := range byStage {
		role := map[string]string{"code": "build", "review": "review", "approve": "approval", "deploy": "deploy"}[stage]
		assert.True(t, strings.HasPrefix(who, "foureyes-"+role+"@"), "stage %s ran as %s", stage, who)
		assert.False(t, seen[who], "identity %s ran two stages", who)
		seen[who] = true
	}
}

func checkRefusalRecorded(t *testing.T, entries []audit.Entry, who, reason string) {
	for _, e := range entries {
		if e.Type == audit.EventDecisionRefused && e.Actor == who && strings.Contains(e.Detail, reason) {
			return
		}
	}
	t.Errorf("no refused decision by %s (%q) in the audit trail", who, reason)
}

func checkDeployedState(t *testing.T, s *stackT, id, digest string) {
	data, err := os.ReadFile(filepath.Join(s.local.DataDir, "deployments", "prod", "payments.json"))
	require.NoError(t, err)
	var state struct {
		ReleaseID string `json:"release_id"`
		Digest    string `json:"digest"`
	}
	require.NoError(t, json.Unmarshal(data, &state))
	assert.Equal(t, id, state.ReleaseID)
	assert.Equal(t, digest, state.Digest)
}
