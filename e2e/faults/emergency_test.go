package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
)

// emergency (issue "One judge", findings 5 and 7; the suite's policy allows
// prod emergencies, withEmergency): an emergency release's
// follow-up gate was signed by the reviewer who signed its review gate,
// and every emergency release's trail failed an honest auditor's
// verification. rita declares one through the gateway; bob reviews, carol
// and dave approve; bob's follow-up is refused, ci-bot's counts; the
// exported trail verifies and is re-judged.
func (a *attackRun) emergency(ctx context.Context, t *testing.T) {
	id, err := a.declaredRelease(ctx)
	require(t, err)
	if st, err := a.reviewOrEnd(ctx, id); err != nil || st.Result != nil {
		t.Fatalf("the emergency release did not reach its review: %v %+v", err, st.Result)
	}
	require(t, a.approveAll(ctx, id))
	require(t, a.s.WaitStatus(ctx, id, api.StatusAwaitingFollowUp))
	a.attempt(t, "emergency", "the review gate's signer signs the follow-up", func() error {
		code, ans, err := a.s.decide(ctx, id, api.GateFollowUp, "approve", "bob", "follow-up-bob")
		if err != nil || code != http.StatusForbidden || ans.Reason != "you signed an earlier gate" {
			return fmt.Errorf("bob's follow-up: %d %+v %v; want 403, you signed an earlier gate", code, ans, err)
		}
		return nil
	})
	require(t, a.legit(ctx, id, api.GateFollowUp, "ci-bot"))
	res, err := a.result(ctx, id)
	require(t, err)
	if res.Status != api.StatusDeployed {
		t.Fatalf("the emergency release ended %s: %s", res.Status, res.Reason)
	}
	a.attempt(t, "emergency", "an honest auditor verifies the emergency release's export", func() error {
		entries, err := a.s.Trail(ctx, id)
		if err != nil {
			return err
		}
		code, out := a.verifyExport(ctx, a.writeExport(t, t.TempDir(), "emergency.jsonl", entries))
		if code != 0 || !strings.Contains(out, "re-judged: ") || !strings.Contains(out, "every recorded outcome agrees") {
			return fmt.Errorf("starter audit --verify: exit %d: %s", code, out)
		}
		return nil
	})
}

// declaredRelease has rita declare a prod release of payments an
// emergency through the gateway and starts it with the declaration.
func (a *attackRun) declaredRelease(ctx context.Context) (string, error) {
	id := releaseID("emergency")
	body, _ := json.Marshal(api.EmergencyRequest{ReleaseID: id, Service: "payments", Environment: "prod",
		Reason: "attack suite: card refunds failing", RequestID: "emergency-" + id})
	code, got, err := a.s.post(ctx, api.PathEmergencies, "Bearer "+a.s.Tokens["rita"], body, nil)
	if err != nil || code != http.StatusOK {
		return "", fmt.Errorf("rita's declaration: %d %v %v", code, got, err)
	}
	env, err := json.Marshal(got["envelope"])
	if err != nil {
		return "", err
	}
	_, err = a.s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: api.QueueOrchestrator},
		api.WorkflowRelease, api.ReleaseRequest{Service: "payments", Environment: "prod", Commit: commitOf("emergency"),
			Requester: "rita", Title: "attack: emergency", Emergency: attest.Envelope(env)})
	return id, err
}

// slackReplay (issue "One judge", finding 8): a captured, signed Slack
// click sent again with its signature's hex upper-cased passed the replay
// check (slack-go reads hex in any case). The click is by a Slack user the
// policy does not know, on a release at its review gate, so the first
// delivery changes nothing; the re-cased one must be refused as a replay.
func (a *attackRun) slackReplay(ctx context.Context, t *testing.T) {
	id, err := a.startRelease(ctx, "payments", commitOf("slack-replay"))
	require(t, err)
	a.aim(id)
	require(t, a.s.WaitStatus(ctx, id, api.StatusAwaitingReview))
	h := &hostileRun{t: t, s: a.s, id: id}
	click, at := h.click("U0MALLORY1", "review"), time.Now()
	a.attempt(t, "slack replay", "a signed click sent again with its signature upper-cased", func() error {
		if code, text, err := h.slackRequest(click, at, nil)(ctx); err != nil || code != http.StatusOK {
			return fmt.Errorf("the first delivery: %d %s %v", code, text, err)
		}
		code, text, err := h.recased(click, at)(ctx)
		if err != nil || code != http.StatusUnauthorized || !strings.Contains(text, "replayed") {
			return fmt.Errorf("the re-cased replay: %d %q %v; want 401 replayed", code, text, err)
		}
		return nil
	})
}
