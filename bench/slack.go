package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	historypb "go.temporal.io/api/history/v1"

	"github.com/foureyes/foureyes/api"
)

// The approval role's Slack settings in the bench: a test signing secret and
// workspace. No bot token, so prompts still go to the console notifier.
const (
	slackSecret = "bench-signing-secret-not-a-real-one"
	slackTeam   = "TBENCH0001"
)

// slackUsers are the policy's Slack ids of the signers (deployments/policy.yaml).
var slackUsers = map[string]string{"review": "U0BOB0001", "approval": "U0ERIN001"}

// viaSlack is foureyes decided by signed Slack button clicks: decide returns
// when the gateway acknowledges (it decides in the background).
type viaSlack struct{ *foureyes }

func (s viaSlack) name() string { return "foureyes via Slack" }

func (s viaSlack) decide(ctx context.Context, id, gate string) error {
	req, err := slackClick(ctx, s.r.Local.GatewayURL(), id, gate, time.Now())
	if err != nil {
		return err
	}
	return expectAccepted(s.r.http.Do(req))
}

func (s viaSlack) next(gate string, a *historypb.ActivityTaskScheduledEventAttributes) bool {
	return s.foureyes.next(gate, a)
}

// slackClick builds a block_actions interaction as Slack sends it when the
// gate's signer clicks Approve, signed with the v0 scheme.
func slackClick(ctx context.Context, base, id, gate string, now time.Time) (*http.Request, error) {
	value, _ := json.Marshal(map[string]string{"release_id": id, "gate": gate})
	ts := strconv.FormatInt(now.Unix(), 10)
	actionTS := strconv.FormatFloat(float64(now.UnixMicro())/1e6, 'f', 6, 64)
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "team": map[string]string{"id": slackTeam},
		"user":      map[string]string{"id": slackUsers[gate]},
		"container": map[string]string{"channel_id": "CBENCH0001", "message_ts": actionTS},
		"actions": []map[string]string{{"action_id": api.SlackActionApprove, "block_id": "foureyes_decide",
			"value": string(value), "action_ts": actionTS, "type": "button"}},
	})
	body := url.Values{"payload": {string(payload)}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+api.PathSlackInteractions, bytes.NewBufferString(body))
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, []byte(slackSecret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return req, nil
}

// runSlack starts releases and clicks their review gate all at once: the
// acknowledgement under a burst (one click at a time is timed in the latency
// phase).
func runSlack(ctx context.Context, r *rig, rep *report, log io.Writer) error {
	sys := viaSlack{newFoureyes(r)}
	ids, _, err := startAll(ctx, sys, r.cfg.slack, 16)
	if err != nil {
		return err
	}
	if err := waitPrompts(ctx, sys, ids, "review"); err != nil {
		return err
	}
	fmt.Fprintf(log, "bench: slack: %d clicks at once\n", len(ids))
	acks := make([]time.Duration, len(ids))
	idx := make([]int, len(ids))
	for i := range idx {
		idx[i] = i
	}
	err = forEach(ctx, idx, len(ids), func(ctx context.Context, i int) error {
		s, err := decideTimed(ctx, sys, ids[i], "review")
		acks[i] = s.answer
		return err
	})
	if err != nil {
		return err
	}
	rep.percentileRows(fmt.Sprintf("Slack acknowledgement, %d clicks at once", len(ids)), acks, nil, "p99 < 100 ms")
	return cancelAll(ctx, r, ids, rep, log, "slack")
}
