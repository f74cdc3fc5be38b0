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

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/gitrepo"
	"github.com/foureyes/foureyes/policy"
)

// TestReleasesThroughTheGateway drives releases through the real gateway,
// with every role its own process, to each way a release ends: deployed,
// rejected, cancelled and rolled back, each of a real commit the build role
// checks out (asked for by tag, branch, full or short SHA); then releases
// whose authors only git knows. Each trail is exported with the real starter
// and checked as an auditor holding only the policy would.
func TestReleasesThroughTheGateway(t *testing.T) {
	s := startStack(t, func(g commits) map[string][]string {
		// C deploys, then fails its verification, so its release rolls back.
		return map[string][]string{"deploy": {`FOUREYES_DEPLOY_VERIFY_COMMAND=test "$FOUREYES_COMMIT" != ` + g.C}}
	})
	t.Run("deployed", func(t *testing.T) { s.t = t; deployedRelease(s) })
	t.Run("rejected", func(t *testing.T) { s.t = t; rejectedRelease(s) })
	t.Run("cancelled", func(t *testing.T) { s.t = t; cancelledRelease(s) })
	t.Run("rolled_back", func(t *testing.T) { s.t = t; rolledBackRelease(s) })
	t.Run("author_from_git", func(t *testing.T) { s.t = t; authorFromGit(s) })
	t.Run("unmapped_email", func(t *testing.T) { s.t = t; unmappedEmail(s) })
}

func deployedRelease(s *stackT) {
	t := s.t
	run := s.start("payments", "prod", "v1.4.0", []string{"alice"}, "rita")
	id := run.GetID()
	s.waitStatus(id, api.StatusAwaitingReview)
	code, a := s.decide(id, "review", "approve", "bob")
	require.Equal(t, http.StatusOK, code, a.Reason)
	s.waitStatus(id, api.StatusAwaitingApproval)

	s.forgeDecision(id, "carol")
	code, a = s.decide(id, "approval", "approve", "alice")
	assert.Equal(t, http.StatusForbidden, code)
	assert.Equal(t, api.OutcomeRefused, a.Outcome)
	assert.Equal(t, policy.RuleAuthor, a.Rule, "the 403 names the rule by code")
	assert.Contains(t, a.Reason, "you authored this change")
	for _, who := range []string{"carol", "dave"} {
		code, a = s.decide(id, "approval", "approve", who)
		require.Equal(t, http.StatusOK, code, a.Reason)
		assert.Equal(t, api.OutcomeAccepted, a.Outcome, "the outcome comes back with the answer")
	}
	res := s.result(run)
	require.Equal(t, api.StatusDeployed, res.Status, res.Reason)

	code, a = s.decide(id, "approval", "approve", "erin")
	assert.Equal(t, http.StatusConflict, code, "a decision after the end finds the gate closed")
	assert.Equal(t, s.git.A, res.Commit, "the tag resolved once, pinned")
	st := s.status(id)
	assert.Equal(t, s.git.A, st.Commit)
	require.NotNil(t, st.Change)
	assert.Equal(t, "", st.Change.Base, "a first release: nothing deployed")
	assert.Equal(t, []string{"alice", "erin"}, st.Change.Authors, "every commit since the policy's baseline counts: alice's with erin, then A")
	checkArtifactByDigest(t, s, res)
	checkDeployedState(t, s, id, res.ArtifactDigest)
	s.checkDeflated(id)
	entries := s.trail(id)
	checkChain(t, entries, res.AuditHead)
	checkExecutors(t, entries)
	checkRefusalRecorded(t, entries, "alice", "you authored this change")
	checkForgedRefused(t, entries, "decision", "carol")
	assert.Equal(t, []string{"bob", "carol", "dave"}, signers(entries), "the forged carol counted nowhere")
	// Approval: bob, alice (refused, but genuinely hers), carol, dave.
	s.checkSigned(id, res, envelopes{attest.RoleBuild: 1, attest.RoleReview: 1, attest.RoleApproval: 4,
		attest.RoleDeploy: 2, attest.RoleOrchestrator: 1})
	s.recordHistory(id, res)
}

// forgeDecision sends what any holder of namespace access could: a plain
// decision signal claiming to be who, past the gateway. The release refuses
// it (it carries no signature) and records the refusal without an actor.
func (s *stackT) forgeDecision(id, who string) {
	err := s.Client.SignalWorkflow(context.Background(), id, "", api.SignalDecision, api.Decision{
		RequestID: "forged-" + who, Gate: "approval", Verdict: api.VerdictApprove, Identity: who,
		Channel: api.ChannelSlack, Comment: "forged"})
	require.NoError(s.t, err)
	s.waitTrail(id, func(e audit.Entry) bool { return isForged(e, "decision", who) })
	assert.Empty(s.t, s.status(id).Signed, "a forged decision signs nothing")
}

func isForged(e audit.Entry, kind, who string) bool {
	return e.Type == audit.EventDecisionRefused && e.Actor == "" && len(e.Envelope) == 0 &&
		strings.Contains(e.Detail, "a "+kind+" signal carries no signature (claimed identity \""+who+"\")")
}

func checkForgedRefused(t *testing.T, entries []audit.Entry, kind, who string) {
	for _, e := range entries {
		if isForged(e, kind, who) {
			return
		}
	}
	t.Errorf("no refusal of the forged %s signal claiming %s in the audit trail", kind, who)
}

// signers are the identities whose decisions counted, in order.
func signers(entries []audit.Entry) []string {
	var ids []string
	for _, e := range entries {
		if e.Type == audit.EventDecision {
			ids = append(ids, e.Actor)
		}
	}
	return ids
}

func rejectedRelease(s *stackT) {
	t := s.t
	run := s.start("ledger", "staging", "main", []string{"alice"}, "rita")
	id := run.GetID()
	s.waitStatus(id, api.StatusAwaitingReview)
	code, a := s.decide(id, "review", "reject", "ci-bot")
	require.Equal(t, http.StatusOK, code, a.Reason)
	res := s.result(run)
	assert.Equal(t, api.StatusRejected, res.Status)
	assert.Contains(t, res.Reason, "rejected by ci-bot")
	_, err := os.Stat(filepath.Join(s.Local.DataDir, "deployments", "staging", "ledger.json"))
	assert.True(t, os.IsNotExist(err), "a rejected release deploys nothing")
	checkChain(t, s.trail(id), res.AuditHead)
	s.checkSigned(id, res, envelopes{attest.RoleBuild: 1, attest.RoleReview: 1, attest.RoleApproval: 1,
		attest.RoleOrchestrator: 1})
	s.recordHistory(id, res)
}

// cancelledRelease cancels a release waiting for review with the real
// `starter cancel`, through the gateway: a forged cancel signal, --as, and
// a cancel by someone who may not are refused; the requester's is accepted,
// and the answer says so at once.
func cancelledRelease(s *stackT) {
	t := s.t
	run := s.start("ledger", "prod", s.git.B, []string{"alice"}, "rita")
	id := run.GetID()
	s.waitStatus(id, api.StatusAwaitingReview)

	err := s.Client.SignalWorkflow(context.Background(), id, "", api.SignalCancel,
		api.CancelRequest{RequestID: "forged-cancel", Identity: "rita", Channel: api.ChannelCLI, Reason: "forged"})
	require.NoError(t, err)
	s.waitTrail(id, func(e audit.Entry) bool { return isForged(e, "cancel", "rita") })
	assert.Equal(t, api.StatusAwaitingReview, s.status(id).Status, "a forged cancel stops nothing")

	out, code := s.starter("rita", "cancel", id, "--as", "rita")
	assert.Equal(t, 2, code, "--as is no longer accepted: %s", out)
	out, code = s.starter("", "cancel", id)
	assert.Equal(t, 2, code, "a cancel needs a token: %s", out)
	out, code = s.starter("bob", "cancel", id, "--reason", "not mine to cancel")
	assert.Equal(t, 3, code, "bob is neither the requester nor a release manager: %s", out)
	assert.Contains(t, out, "bob is neither the requester (rita) nor a release manager")

	out, code = s.starter("rita", "cancel", id, "--reason", "wrong commit", "--request-id", "rita-cancel-1")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "accepted")
	assert.Contains(t, out, "as rita, request id rita-cancel-1")
	res := s.result(run)
	assert.Equal(t, api.StatusCancelled, res.Status)
	assert.Contains(t, res.Reason, "rita")

	entries := s.trail(id)
	checkChain(t, entries, res.AuditHead)
	checkForgedRefused(t, entries, "cancel", "rita")
	var cancels []string
	for _, e := range entries {
		if e.Type == audit.EventCancelRequested || e.Type == audit.EventCancelRefused {
			assert.NotEmpty(t, e.Envelope, "the gateway signed %s's cancel", e.Actor)
			assert.Equal(t, api.ChannelCLI, e.Channel)
			cancels = append(cancels, e.Type+":"+e.Actor)
		}
	}
	assert.Equal(t, []string{"cancel_refused:bob", "cancel_requested:rita"}, cancels)
	// Approval: bob's refused cancel and rita's accepted one.
	s.checkSigned(id, res, envelopes{attest.RoleBuild: 1, attest.RoleReview: 1, attest.RoleApproval: 2,
		attest.RoleOrchestrator: 1})
	s.recordHistory(id, res)
}

// rolledBackRelease deploys a commit whose verification fails: the deploy
// role rolls it back, the previous record is back, and the trail carries
// the deploy role's receipts of all three steps.
func rolledBackRelease(s *stackT) {
	t := s.t
	record := filepath.Join(s.Local.DataDir, "deployments", "prod", "payments.json")
	before, beforeErr := os.ReadFile(record)
	run := s.start("payments", "prod", "main", []string{"alice"}, "rita") // main is C
	id := run.GetID()
	s.waitStatus(id, api.StatusAwaitingReview)
	code, a := s.decide(id, "review", "approve", "bob")
	require.Equal(t, http.StatusOK, code, a.Reason)
	s.waitStatus(id, api.StatusAwaitingApproval)
	for _, who := range []string{"carol", "dave"} {
		code, a = s.decide(id, "approval", "approve", who)
		require.Equal(t, http.StatusOK, code, a.Reason)
	}
	res := s.result(run)
	require.Equal(t, api.StatusRolledBack, res.Status, res.Reason)
	assert.Equal(t, s.git.C, res.Commit)
	if ch := s.status(id).Change; assert.NotNil(t, ch) {
		assert.Equal(t, s.git.A, ch.Base, "the change since the deployed commit")
		assert.Equal(t, 1, ch.CommitCount)
	}

	after, afterErr := os.ReadFile(record)
	assert.Equal(t, os.IsNotExist(beforeErr), os.IsNotExist(afterErr), "the record is back as it was")
	assert.Equal(t, string(before), string(after), "the record is back as it was")
	entries := s.trail(id)
	checkChain(t, entries, res.AuditHead)
	var steps []string
	for _, e := range entries {
		switch e.Type {
		case audit.EventDeploy, audit.EventVerify, audit.EventRollback:
			steps = append(steps, e.Type+":"+e.Outcome)
		}
	}
	assert.Equal(t, []string{"deploy:ok", "verify:failed", "rollback:ok"}, steps)
	s.checkSigned(id, res, envelopes{attest.RoleBuild: 1, attest.RoleReview: 1, attest.RoleApproval: 3,
		attest.RoleDeploy: 3, attest.RoleOrchestrator: 1})
	s.recordHistory(id, res)
}

// authorFromGit: the real starter starts a release of alice's commit (by
// short SHA) declaring bob as its author. Bob is refused as the declared
// author, alice as the author git names; the change reaches back to the
// last deployed commit (A: C was rolled back), so C counts too.
func authorFromGit(s *stackT) {
	t := s.t
	d := commit(t, s.git.payments, devstack.DemoAlice, "payments: refund receipts\n", "receipts.go")
	out, code := s.starter("", "start", "--service", "payments", "--env", "prod", "--commit", d[:8],
		"--author", "bob", "--requester", "rita", "--title", "receipts", "--json")
	require.Equal(t, 0, code, out)
	var started struct {
		ReleaseID string `json:"release_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &started), out)
	id := started.ReleaseID
	s.waitStatus(id, api.StatusAwaitingReview)
	code, a := s.decide(id, "review", "approve", "bob")
	assert.Equal(t, http.StatusForbidden, code)
	assert.Contains(t, a.Reason, "you authored this change", "bob, as declared")
	code, a = s.decide(id, "review", "approve", "ci-bot")
	require.Equal(t, http.StatusOK, code, a.Reason)
	s.waitStatus(id, api.StatusAwaitingApproval)
	code, a = s.decide(id, "approval", "approve", "alice")
	assert.Equal(t, http.StatusForbidden, code)
	assert.Equal(t, api.OutcomeRefused, a.Outcome)
	assert.Contains(t, a.Reason, "you authored this change", "alice, found in git though nobody named her")
	for _, who := range []string{"carol", "dave"} {
		code, a = s.decide(id, "approval", "approve", who)
		require.Equal(t, http.StatusOK, code, a.Reason)
	}
	out, code = s.starter("", "wait", id, "--json")
	require.Equal(t, 0, code, out)
	st := s.status(id)
	assert.Equal(t, d, st.Commit, "the short SHA resolved to the full one")
	assert.Equal(t, []string{"alice", "bob"}, st.Authors)
	require.NotNil(t, st.Change)
	assert.Equal(t, s.git.A, st.Change.Base)
	assert.Equal(t, 2, st.Change.CommitCount, "C (rolled back, never deployed) and D")
	out, code = s.starter("", "status", id)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "git authors   alice")
	assert.Contains(t, out, "payments: refund receipts (alice@example.com; signed by alice)")
	entries := s.trail(id)
	checkRefusalRecorded(t, entries, "alice", "you authored this change")
	res := s.result(s.Client.GetWorkflow(context.Background(), id, ""))
	s.checkSigned(id, res, envelopes{attest.RoleBuild: 1, attest.RoleReview: 1, attest.RoleApproval: 5,
		attest.RoleDeploy: 2, attest.RoleOrchestrator: 1})
	s.recordHistory(id, res, "author-from-git")
}

// unmappedEmail: a ledger commit co-authored by someone the policy does not
// know. Every approval is refused, naming the email (staging blocks them by
// default); a rejection still ends the release.
func unmappedEmail(s *stackT) {
	t := s.t
	_, err := s.git.ledger.Commit(gitrepo.Commit{Author: devstack.DemoAlice,
		Message: "ledger: nightly totals\n\nCo-authored-by: Mallory <mallory@elsewhere.example>\n"})
	require.NoError(t, err)
	run := s.start("ledger", "staging", "main", nil, "rita")
	id := run.GetID()
	s.waitStatus(id, api.StatusAwaitingReview)
	code, a := s.decide(id, "review", "approve", "bob")
	assert.Equal(t, http.StatusForbidden, code)
	assert.Equal(t, policy.RuleUnmappedEmail, a.Rule)
	assert.Contains(t, a.Reason, `the change has commits by "mallory@elsewhere.example", which maps to no identity of the policy`)
	assert.Empty(t, s.status(id).Awaiting)
	code, a = s.decide(id, "review", "reject", "bob")
	require.Equal(t, http.StatusOK, code, a.Reason)
	res := s.result(run)
	assert.Equal(t, api.StatusRejected, res.Status)
	s.recordHistory(id, res, "unmapped-email")
}

// checkArtifactByDigest: the artifact is stored once under its digest,
// read-only.
func checkArtifactByDigest(t *testing.T, s *stackT, res api.ReleaseResult) {
	path := filepath.Join(s.Local.DataDir, "artifacts", "sha256", res.ArtifactDigest)
	assert.Equal(t, path, res.ArtifactRef)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o444), info.Mode().Perm())
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
	data, err := os.ReadFile(filepath.Join(s.Local.DataDir, "deployments", "prod", "payments.json"))
	require.NoError(t, err)
	var state struct {
		ReleaseID string `json:"release_id"`
		Digest    string `json:"digest"`
	}
	require.NoError(t, json.Unmarshal(data, &state))
	assert.Equal(t, id, state.ReleaseID)
	assert.Equal(t, digest, state.Digest)
}
