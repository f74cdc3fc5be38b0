package slackui

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// A reject click opens a modal asking for the reason (views.open); its
// submission (view_submission, signed like a click) rejects with it.
const (
	ReasonView   = "foureyes_reject_reason" // the modal's callback id
	ReasonBlock  = "foureyes_reason"
	ReasonAction = "reason"
)

// ReasonMeta is the modal's private metadata: what the click was about.
// Slack hands it back unchanged in the signed submission.
type ReasonMeta struct {
	Release   string `json:"r"`
	Gate      string `json:"g"`
	Channel   string `json:"c"`
	MessageTS string `json:"m"`
	ActionTS  string `json:"a"`
}

// Reason is a submitted reason dialog.
type Reason struct {
	ReasonMeta
	Team, User string
	Text       string // the reason, trimmed; "" asks for one (ReasonRequired)
	ID         string // the same for a redelivery of the same submission
}

// ReasonRequired is the dialog's answer to an empty reason (it stays open).
var ReasonRequired = map[string]string{ReasonBlock: "A rejection needs a reason: say why."}

// ReasonModal asks why m's gate is rejected, in at most maxLen characters.
func ReasonModal(m ReasonMeta, maxLen int) slack.ModalViewRequest {
	meta, _ := json.Marshal(m)
	input := slack.NewPlainTextInputBlockElement(plain("Why? The release fails with this reason."), ReasonAction)
	input.Multiline, input.MaxLength = true, maxLen
	return slack.ModalViewRequest{Type: slack.VTModal, CallbackID: ReasonView, PrivateMetadata: string(meta),
		Title: plain("Reject"), Submit: plain("Reject"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(mrkdwn(fmt.Sprintf(
				"Reject the *%s* gate of `%s`? A rejection needs a reason: it goes into the audit trail.", m.Gate, m.Release)), nil, nil),
			slack.NewInputBlock(ReasonBlock, plain("Reason"), nil, input)}}}
}

// ParseReason reads a view_submission of the reason dialog.
func ParseReason(cb slack.InteractionCallback) (Reason, error) {
	r := Reason{Team: cb.Team.ID, User: cb.User.ID}
	switch {
	case cb.View.CallbackID != ReasonView:
		return r, fmt.Errorf("view %q is not foureyes' reason dialog", cb.View.CallbackID)
	case cb.User.ID == "":
		return r, fmt.Errorf("payload names no user")
	case json.Unmarshal([]byte(cb.View.PrivateMetadata), &r.ReasonMeta) != nil:
		return r, fmt.Errorf("the dialog's metadata is not foureyes'")
	}
	if cb.View.State != nil {
		r.Text = strings.TrimSpace(cb.View.State.Values[ReasonBlock][ReasonAction].Value)
	}
	sum := sha256.Sum256([]byte(cb.User.ID + "|" + cb.View.ID + "|" + r.ActionTS))
	r.ID = "slack-" + hex.EncodeToString(sum[:16])
	return r, nil
}
