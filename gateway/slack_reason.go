package gateway

import (
	"context"
	"fmt"
	"net/http"

	"github.com/slack-go/slack"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/slackui"
)

// askReason opens the reason modal for a reject click.
func (s *Server) askReason(ctx context.Context, c slackClick) {
	if s.slack.opts.Client == nil || c.Trigger == "" {
		s.log.Warn("slack reject click dropped: a rejection needs a reason and no modal can be opened",
			"user", c.User, "release", c.req.ReleaseID, "has_client", s.slack.opts.Client != nil)
		return
	}
	view := slackui.ReasonModal(slackui.ReasonMeta{Release: c.req.ReleaseID, Gate: c.req.Gate, Channel: c.Channel,
		MessageTS: c.MessageTS, ActionTS: c.ActionTS}, maxCommentLen)
	if _, err := s.slack.opts.Client.OpenViewContext(ctx, c.Trigger, view); err != nil {
		s.log.Warn("slack reason modal not opened", "user", c.User, "release", c.req.ReleaseID, "error", err)
		s.replyEphemeral(ctx, c, fmt.Sprintf("Your reject at the %s gate of %s was not recorded: the reason dialog could not open (%v).",
			c.req.Gate, c.req.ReleaseID, err))
	}
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
	if s.slack.opts.TeamID == "" || cb.Team.ID != s.slack.opts.TeamID {
		return nil, nil, http.StatusForbidden, fmt.Sprintf("team %q is not the configured workspace", cb.Team.ID)
	}
	r, err := slackui.ParseReason(cb)
	switch {
	case err != nil:
		return nil, nil, http.StatusBadRequest, err.Error()
	case r.Text == "":
		return nil, slackui.ReasonRequired, http.StatusOK, ""
	}
	c := &slackClick{Click: slackui.Click{Team: r.Team, User: r.User, Channel: r.Channel, MessageTS: r.MessageTS,
		ActionTS: r.ActionTS}, reasoned: true, req: api.DecisionRequest{ReleaseID: r.Release, Gate: r.Gate, Verdict: api.VerdictReject,
		Comment: r.Text, RequestID: r.ID}}
	if bad := validateDecision(c.req); bad != nil {
		return nil, nil, http.StatusBadRequest, "reason dialog: " + bad.msg
	}
	return c, nil, http.StatusOK, ""
}
