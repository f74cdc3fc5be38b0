package slackrec

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Click is one button click, as Slack reports it in a block_actions payload.
type Click struct {
	Team, User, Channel, MessageTS string
	ActionID, Value, ActionTS      string
}

// Payload is the block_actions JSON Slack sends for the click.
func (c Click) Payload() string {
	p := map[string]any{
		"type":       "block_actions",
		"team":       map[string]string{"id": c.Team, "domain": "test"},
		"user":       map[string]string{"id": c.User, "username": strings.ToLower(c.User), "team_id": c.Team},
		"api_app_id": "A0FOUREYES", "trigger_id": "1.2.3",
		"container": map[string]any{"type": "message", "message_ts": c.MessageTS, "channel_id": c.Channel},
		"channel":   map[string]string{"id": c.Channel, "name": "releases"},
		"message":   map[string]string{"type": "message", "ts": c.MessageTS},
		"actions": []map[string]any{{"action_id": c.ActionID, "block_id": "foureyes_decide",
			"type": "button", "value": c.Value, "action_ts": c.ActionTS,
			"text": map[string]string{"type": "plain_text", "text": c.ActionID}}},
		"response_url": "https://hooks.slack.invalid/actions/T/1/x",
	}
	b, _ := json.Marshal(p)
	return string(b)
}

// Submission is a view_submission of a modal: its callback id, private
// metadata and the value typed into input block/action.
type Submission struct {
	Team, User, ViewID, CallbackID, Metadata string
	Block, Action, Value                     string
}

// Body is the form body Slack posts for the submission.
func (v Submission) Body() string {
	p := map[string]any{
		"type": "view_submission", "team": map[string]string{"id": v.Team, "domain": "test"},
		"user": map[string]string{"id": v.User, "team_id": v.Team}, "api_app_id": "A0FOUREYES", "trigger_id": "4.5.6",
		"view": map[string]any{"id": v.ViewID, "type": "modal", "callback_id": v.CallbackID, "private_metadata": v.Metadata,
			"state": map[string]any{"values": map[string]any{v.Block: map[string]any{v.Action: map[string]any{
				"type": "plain_text_input", "value": v.Value}}}}},
	}
	b, _ := json.Marshal(p)
	return url.Values{"payload": {string(b)}}.Encode()
}

// Body is the form body Slack posts: payload=<JSON>.
func (c Click) Body() string { return url.Values{"payload": {c.Payload()}}.Encode() }

// Signature is Slack's v0 signature of body at ts with secret.
func Signature(secret, ts, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:%s", ts, body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// Sign sets the signature headers of a request with body sent at at.
func Sign(h http.Header, secret, body string, at time.Time) {
	ts := strconv.FormatInt(at.Unix(), 10)
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", Signature(secret, ts, body))
}

// SignedRequest is a POST of body to target, signed now with secret.
func SignedRequest(target, secret, body string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	Sign(req.Header, secret, body, time.Now())
	return req, nil
}
