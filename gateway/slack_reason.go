package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/slack-go/slack"

	"github.com/foureyes/foureyes/api"
)

// A reject click opens a modal asking for the reason (views.open); its
// submission (view_submission, signed like a click) rejects with it.
const (
	slackReasonView   = "foureyes_reject_reason" // the modal's callback id
	slackReasonBlock  = "foureyes_reason"
	slackReasonAction = "reason"
)

// reasonMeta is the modal's private metadata: what the click was about.
// Slack hands it back unchanged in the signed submission.
type reasonMeta struct {
	Release   string `json:"r"`
	Gate      string `json:"g"`
	Channel   string `json:"c"`
	MessageTS string `json:"m"`
	ActionTS  string `json:"a"`
}

// askReason opens the reason modal for a reject click.
func (s *Server) askReason(ctx context.Context, c slackClick) {
	if s.slack.opts.Client == nil || c.trigger == "" {
		s.log.Warn("slack reject click dropped: a rejection needs a reason and no modal can be opened",
			"user", c.user, "release", c.req.ReleaseID, "has_client", s.slack.opts.Client != nil)
		return
	}
	meta, _ := json.Marshal(reasonMeta{Release: c.req.ReleaseID, Gate: c.req.Gate, Channel: c.channel,
		MessageTS: c.messageTS, ActionTS: c.actionTS})
	input := slack.NewPlainTextInputBlockElement(plainText("Why? The release fails with this reason."), slackReasonAction)
	input.Multiline, input.MaxLength = true, maxCommentLen
	view := slack.ModalViewRequest{Type: slack.VTModal, CallbackID: slackReasonView, PrivateMetadata: string(meta),
		Title: plainText("Reject"), Submit: plainText("Reject"), Close: plainText("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, fmt.Sprintf(
				"Reject the *%s* gate of `%s`? A rejection needs a reason: it goes into the audit trail.", c.req.Gate, c.req.ReleaseID), false, false), nil, nil),
			slack.NewInputBlock(slackReasonBlock, plainText("Reason"), nil, input)}}}
	if _, err := s.slack.opts.Client.OpenViewContext(ctx, c.trigger, view); err != nil {
		s.log.Warn("slack reason modal not opened", "user", c.user, "release", c.req.ReleaseID, "error", err)
		s.replyEphemeral(ctx, c, fmt.Sprintf("Your reject at the %s gate of %s was not recorded: the reason dialog could not open (%v).",
			c.req.Gate, c.req.ReleaseID, err))
	}
}

func plainText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

// handleReasonView takes the reason modal's submission: an empty reason is
// answered with the modal's error (it stays open); otherwise the modal
// closes and the rejection is decided in the background.
func (s *Server) handleReasonView(w http.ResponseWriter, r *http.Request, cb slack.InteractionCallback) {
	c, errs, status, why := s.reasonClick(cb)
	switch {
	case status != http.StatusOK:
		s.slackRefused(w, r, status, why)
	case errs != nil:
		writeJSON(w, http.StatusOK, slack.NewErrorsViewSubmissionResponse(errs))
	default:
		w.WriteHeader(http.StatusOK)
		s.takeClick(*c)
	}
}

// reasonClick reads the submission into a reject decision.
func (s *Server) reasonClick(cb slack.InteractionCallback) (*slackClick, map[string]string, int, string) {
	var m reasonMeta
	switch {
	case s.slack.opts.TeamID == "" || cb.Team.ID != s.slack.opts.TeamID:
		return nil, nil, http.StatusForbidden, fmt.Sprintf("team %q is not the configured workspace", cb.Team.ID)
	case cb.View.CallbackID != slackReasonView:
		return nil, nil, http.StatusBadRequest, fmt.Sprintf("view %q is not foureyes' reason dialog", cb.View.CallbackID)
	case cb.User.ID == "":
		return nil, nil, http.StatusBadRequest, "payload names no user"
	case json.Unmarshal([]byte(cb.View.PrivateMetadata), &m) != nil:
		return nil, nil, http.StatusBadRequest, "the dialog's metadata is not foureyes'"
	}
	reason := ""
	if cb.View.State != nil {
		reason = strings.TrimSpace(cb.View.State.Values[slackReasonBlock][slackReasonAction].Value)
	}
	if reason == "" {
		return nil, map[string]string{slackReasonBlock: "A rejection needs a reason: say why."}, http.StatusOK, ""
	}
	sum := sha256.Sum256([]byte(cb.User.ID + "|" + cb.View.ID + "|" + m.ActionTS))
	c := &slackClick{team: cb.Team.ID, user: cb.User.ID, channel: m.Channel, messageTS: m.MessageTS, actionTS: m.ActionTS,
		reasoned: true, req: api.DecisionRequest{ReleaseID: m.Release, Gate: m.Gate, Verdict: api.VerdictReject, Comment: reason,
			RequestID: "slack-" + hex.EncodeToString(sum[:16])}}
	if bad := validateDecision(c.req); bad != nil {
		return nil, nil, http.StatusBadRequest, "reason dialog: " + bad.msg
	}
	return c, nil, http.StatusOK, ""
}
