package slackui

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/slack-go/slack"

	"github.com/foureyes/foureyes/api"
)

// Click is a click on one of foureyes' buttons, as Slack reports it. Who
// may decide what is not its business: the gateway judges that.
type Click struct {
	Action    string          // api.SlackAction*
	Verdict   string          // the action's verdict: api.VerdictApprove or api.VerdictReject ("" for Sign)
	Button    api.SlackButton // the button's value
	Team      string
	User      string
	Channel   string
	MessageTS string
	ActionTS  string
	Trigger   string // the click's trigger id (to open the reason dialog)
}

// verdicts are foureyes' action ids; other actions are not ours.
var verdicts = map[string]string{api.SlackActionApprove: api.VerdictApprove,
	api.SlackActionReject: api.VerdictReject, api.SlackActionApproveAll: api.VerdictApprove,
	api.SlackActionSign: ""} // the page asks for the verdict

// Payload reads the payload field of an interaction's form body only (the
// query string is not signed).
func Payload(body []byte) (slack.InteractionCallback, error) {
	var cb slack.InteractionCallback
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return cb, fmt.Errorf("malformed form body: %v", err)
	}
	p := form["payload"]
	if len(p) != 1 || p[0] == "" {
		return cb, errors.New("body must hold exactly one payload field")
	}
	if err := json.Unmarshal([]byte(p[0]), &cb); err != nil {
		return cb, fmt.Errorf("malformed payload JSON: %v", err)
	}
	return cb, nil
}

// ParseClick reads the first of foureyes' buttons among cb's block
// actions; nil, nil when the interaction clicked none of them.
func ParseClick(cb slack.InteractionCallback) (*Click, error) {
	for _, a := range cb.ActionCallback.BlockActions {
		if verdict, ok := verdicts[a.ActionID]; ok {
			return clickOf(cb, a, verdict)
		}
	}
	return nil, nil
}

func clickOf(cb slack.InteractionCallback, a *slack.BlockAction, verdict string) (*Click, error) {
	var b api.SlackButton
	if err := json.Unmarshal([]byte(a.Value), &b); err != nil {
		return nil, errors.New("button value is not foureyes': " + err.Error())
	}
	return &Click{Action: a.ActionID, Verdict: verdict, Button: b, Team: cb.Team.ID, User: cb.User.ID,
		Channel: first(cb.Container.ChannelID, cb.Channel.ID), MessageTS: first(cb.Container.MessageTs, cb.Message.Timestamp),
		ActionTS: first(a.ActionTs, cb.ActionTs), Trigger: cb.TriggerID}, nil
}

// ID is derived from the click (user, action time, message, action), so
// that a redelivery of the same click has the same id.
func (c Click) ID() string {
	sum := sha256.Sum256([]byte(c.User + "|" + c.ActionTS + "|" + c.MessageTS + "|" + c.Action))
	return "slack-" + hex.EncodeToString(sum[:16])
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
