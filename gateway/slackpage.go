package gateway

import (
	"context"
	"fmt"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/policy"
)

// sendPage answers a click at a gate whose proof is "approver" (or on the
// Sign button) with the clicker's own page link, privately: a click is
// the approval role's word for the person, which such a gate does not
// take. It reports whether the click was answered so.
func (s *Server) sendPage(ctx context.Context, c slackClick) bool {
	if s.page == nil || !s.wantsPage(ctx, c) {
		return false
	}
	who := s.clicker(c)
	link, err := s.PageLink(who.identity, api.PageRequest{Purpose: PurposeApprove, ReleaseID: c.req.ReleaseID, Gate: c.req.Gate})
	text := fmt.Sprintf("The %s gate of %s takes your own passkey: <%s|open your approval page> (the link is yours alone; it expires at %s).",
		c.req.Gate, c.req.ReleaseID, link.URL, link.Expires.Format("15:04 MST"))
	if err != nil {
		text = fmt.Sprintf("The %s gate of %s takes your own passkey, on the approval page: %v.", c.req.Gate, c.req.ReleaseID, err)
	}
	s.log.Info("slack click answered with the approval page", "release", c.req.ReleaseID, "gate", c.req.Gate,
		"identity", who.identity, "slack_user", c.User, "error", err)
	s.replyEphemeral(ctx, c, text)
	return true
}

// wantsPage: the Sign button, or a verdict button at a gate whose proof
// is "approver" under the gateway's policy (an older prompt's buttons).
func (s *Server) wantsPage(ctx context.Context, c slackClick) bool {
	if c.Action == api.SlackActionSign {
		return true
	}
	bd, err := s.binding(ctx, c.req.ReleaseID)
	if err != nil || bd.Environment == "" {
		return false // decide as before: the release's answer says why
	}
	return s.policy.ProofAt(bd.Environment, c.req.Gate) == policy.ProofApprover
}
