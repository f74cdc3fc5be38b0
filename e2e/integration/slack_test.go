package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/slackrec"
)

const (
	slackSecret = "integration-signing-secret"
	slackTeam   = "T0FOUREYES"
	slackBob    = "U0BOB0001" // Slack ids of deployments/policy.yaml
	slackAlice  = "U0ALICE01"
	slackCarol  = "U0CAROL01"
	slackDave   = "U0DAVE001"
)

// startSlackStack starts the stack with the approval role talking to
// slackAPI as the team's bot.
func startSlackStack(t *testing.T, slackAPI *slackrec.Server) *stackT {
	return startStack(t, func(commits) map[string][]string {
		return map[string][]string{"approval": {
			"FOUREYES_APPROVAL_SLACK_BOT_TOKEN=xoxb-integration",
			"FOUREYES_APPROVAL_SLACK_SIGNING_SECRET=" + slackSecret,
			"FOUREYES_APPROVAL_SLACK_TEAM_ID=" + slackTeam,
			"FOUREYES_APPROVAL_SLACK_API_URL=" + slackAPI.URL(),
		}}
	})
}

// TestSlackApprovals: the approval role (its own process) posts prompts to a
// slacktest server, and people answer by clicking buttons, i.e. signed
// POSTs to the gateway. Bob passes review, the author's click is refused
// with the reason, a forged click gets 401, carol and dave approve, and the
// prompt ends showing the outcome without buttons.
func TestSlackApprovals(t *testing.T) {
	slackAPI := slackrec.New(t)
	s := startSlackStack(t, slackAPI)
	run := s.start("payments", "prod", s.git.A, nil, "rita") // authors: from git
	id := run.GetID()

	review := waitPrompt(t, slackAPI, id, "review")
	assert.Equal(t, "#releases-prod", review.Channel())
	assert.Contains(t, review.BlocksText(), "Review needed: payments → prod")
	assert.Equal(t, http.StatusOK, s.click(review, slackBob, api.SlackActionApprove))
	s.waitStatus(id, api.StatusAwaitingApproval)

	approval := waitPrompt(t, slackAPI, id, "approval")
	assert.Contains(t, approval.BlocksText(), "2 of prod-owners")
	assert.Contains(t, approval.BlocksText(), "`"+s.git.A[:7]+"` payments: faster card refunds — alice", "the change's commits, from git")
	assert.Equal(t, http.StatusOK, s.click(approval, slackAlice, api.SlackActionApprove))
	assert.Contains(t, waitEphemeral(t, slackAPI, slackAlice).Text(), "was refused: you authored this change")
	assert.Equal(t, http.StatusOK, s.click(approval, "U0MALLORY", api.SlackActionApprove))
	assert.Contains(t, waitEphemeral(t, slackAPI, "U0MALLORY").Text(), `unknown identity "slack:U0MALLORY"`)

	forged := s.clickBody(approval, slackCarol, api.SlackActionApprove)
	assert.Equal(t, http.StatusUnauthorized, s.postSigned(forged, "not-the-secret"))
	assert.Empty(t, s.status(id).Signed, "a forged click signs nothing")

	// A click is acknowledged before it is signalled: wait for each to count,
	// so that the order of signers (and of the message) is known.
	for i, who := range []string{slackCarol, slackDave} {
		assert.Equal(t, http.StatusOK, s.click(approval, who, api.SlackActionApprove))
		s.waitSigned(id, i+1)
	}
	res := s.result(run)
	require.Equal(t, api.StatusDeployed, res.Status, res.Reason)

	final := waitFinal(t, slackAPI, approval, "Release deployed")
	assert.Contains(t, final.BlocksText(), "2 of 2: carol, dave")
	assert.Empty(t, waitFinal(t, slackAPI, review, "Review approved").Buttons())
	assert.Equal(t, http.StatusOK, s.click(approval, slackDave, api.SlackActionApprove))
	assert.Contains(t, waitEphemeral(t, slackAPI, slackDave).Text(), "was not counted")
	checkSlackTrail(t, s.trail(id), res.AuditHead)
	// Approval: bob, alice and slack:U0MALLORY (both refused on the
	// policy's rules, so their signed decisions are kept), carol, dave.
	s.checkSigned(id, res, envelopes{attest.RoleBuild: 1, attest.RoleReview: 1, attest.RoleApproval: 5,
		attest.RoleDeploy: 2, attest.RoleOrchestrator: 1})
}

// clickN makes every click's action_ts unique, as Slack's are.
var clickN atomic.Int64

func (s *stackT) clickBody(prompt slackrec.Call, user, action string) string {
	btn := prompt.Button(action)
	require.NotNil(s.t, btn, "prompt has a %s button", action)
	return slackrec.Click{Team: slackTeam, User: user, Channel: prompt.AnsweredChan, MessageTS: prompt.AnsweredTS,
		ActionID: action, Value: btn.Value,
		ActionTS: fmt.Sprintf("%d.%06d", time.Now().Unix(), clickN.Add(1))}.Body()
}

// click posts a signed click and checks Slack's three-second limit.
func (s *stackT) click(prompt slackrec.Call, user, action string) int {
	start := time.Now()
	status := s.postSigned(s.clickBody(prompt, user, action), slackSecret)
	assert.Less(s.t, time.Since(start), 3*time.Second, "Slack needs an answer within 3 s")
	return status
}

func (s *stackT) postSigned(body, secret string) int {
	req, err := slackrec.SignedRequest(s.Local.GatewayURL()+"/slack/interactions", secret, body)
	require.NoError(s.t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// waitPrompt finds the prompt posted for the release's gate.
func waitPrompt(t *testing.T, slackAPI *slackrec.Server, id, gate string) slackrec.Call {
	var found slackrec.Call
	require.Eventually(t, func() bool {
		for _, c := range slackAPI.Calls(slackrec.PostMessage) {
			var v api.SlackButton
			if b := c.Button(api.SlackActionApprove); b != nil &&
				json.Unmarshal([]byte(b.Value), &v) == nil && v.ReleaseID == id && v.Gate == gate {
				found = c
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "no %s prompt posted for %s", gate, id)
	return found
}

func waitEphemeral(t *testing.T, slackAPI *slackrec.Server, user string) slackrec.Call {
	var found slackrec.Call
	require.Eventually(t, func() bool {
		for _, c := range slackAPI.Calls(slackrec.PostEphemeral) {
			if c.User() == user {
				found = c
			}
		}
		return found.Method != ""
	}, 15*time.Second, 50*time.Millisecond, "no ephemeral reply to %s", user)
	return found
}

// waitFinal waits until the prompt's last update shows want, without buttons.
func waitFinal(t *testing.T, slackAPI *slackrec.Server, prompt slackrec.Call, want string) slackrec.Call {
	var last slackrec.Call
	require.Eventually(t, func() bool {
		for _, c := range slackAPI.Calls(slackrec.Update) {
			if c.Channel() == prompt.AnsweredChan && c.TS() == prompt.AnsweredTS {
				last = c
			}
		}
		return strings.Contains(last.BlocksText(), want) && len(last.Buttons()) == 0
	}, 30*time.Second, 50*time.Millisecond, "prompt %s never showed %q without buttons (last: %s)",
		prompt.AnsweredTS, want, last.BlocksText())
	return last
}

// checkSlackTrail: every decision came through Slack, and both refusals are
// recorded (the author, and the unknown Slack user, fail closed).
func checkSlackTrail(t *testing.T, entries []audit.Entry, head string) {
	checkChain(t, entries, head)
	checkRefusalRecorded(t, entries, "alice", "you authored this change")
	checkRefusalRecorded(t, entries, "slack:U0MALLORY", "unknown identity")
	var signers []string
	for _, e := range entries {
		if e.Type == audit.EventDecision {
			assert.Equal(t, api.ChannelSlack, e.Channel, "decision by %s", e.Actor)
			signers = append(signers, e.Actor)
		}
		if e.Type == audit.EventDecisionRefused {
			assert.Equal(t, api.ChannelSlack, e.Channel)
		}
	}
	assert.Equal(t, []string{"bob", "carol", "dave"}, signers)
}

// waitSigned polls the status query until n decisions count at the gate.
func (s *stackT) waitSigned(id string, n int) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if len(s.status(id).Signed) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("release %s never had %d signers", id, n)
}

// TestSlackNoticesAfterTheApprovalRoleRestarted: a gate's decision and
// outcome notices carry only what changed (versionLeanNoticeInputs); an
// approval role restarted after the prompt keeps no prompt, reads it from
// the release's history (the server lets it) and updates the Slack message
// with every fact it showed before.
func TestSlackNoticesAfterTheApprovalRoleRestarted(t *testing.T) {
	slackAPI := slackrec.New(t)
	s := startSlackStack(t, slackAPI)
	run := s.start("payments", "prod", s.git.A, nil, "rita")
	id := run.GetID()
	assert.Equal(t, http.StatusOK, s.click(waitPrompt(t, slackAPI, id, "review"), slackBob, api.SlackActionApprove))
	approval := waitPrompt(t, slackAPI, id, "approval")
	s.waitTrail(id, func(e audit.Entry) bool { // the prompt's ref is the workflow's
		return e.Type == audit.EventStageFinished && strings.HasPrefix(e.Detail, "approvers asked")
	})
	s.Local.StopRoles()
	require.NoError(t, s.StartRoles(context.Background()), "the approval role starts with no prompt kept")
	run = s.Client.GetWorkflow(context.Background(), id, "") // the admin's client was dialled again

	for i, who := range []string{slackCarol, slackDave} {
		assert.Equal(t, http.StatusOK, s.click(approval, who, api.SlackActionApprove))
		s.waitSigned(id, i+1)
	}
	res := s.result(run)
	require.Equal(t, api.StatusDeployed, res.Status, res.Reason)
	final := waitFinal(t, slackAPI, approval, "Release deployed")
	text := final.BlocksText()
	for _, fact := range []string{"*Requester*\nrita", "*Authors*\nalice", "2 of prod-owners", "2 of 2: carol, dave",
		"`" + s.git.A[:7] + "` payments: faster card refunds — alice", "`sha256:" + res.ArtifactDigest[:12] + "`"} {
		assert.Contains(t, text, fact)
	}
	assert.NotContains(t, text, "facts are missing")
}
