package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode takes Slack interactions over Socket Mode, for workspaces
// without a public URL, until ctx ends. The app-level token authenticates
// the connection, so there is no signature; the team, the action and the
// user mapping are checked as for /slack/interactions. A lost connection is
// retried with backoff and never stops the gateway or the bot API.
func (s *Server) RunSocketMode(ctx context.Context, sm *socketmode.Client) {
	if s.slack == nil {
		s.log.Error("slack socket mode needs the gateway's Slack options")
		return
	}
	go s.socketEvents(ctx, sm)
	for delay := time.Second; ctx.Err() == nil; delay = min(2*delay, time.Minute) {
		err := sm.RunContext(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Error("slack socket mode disconnected", "error", err, "retry_in", delay.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

func (s *Server) socketEvents(ctx context.Context, sm *socketmode.Client) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt, ok := <-sm.Events:
			if !ok {
				return
			}
			s.socketEvent(ctx, sm, evt)
		}
	}
}

// socketEvent acknowledges every request at once (Slack's three seconds),
// then handles clicks as the HTTP endpoint does.
func (s *Server) socketEvent(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	if evt.Request != nil && evt.Request.EnvelopeID != "" {
		if err := sm.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil {
			s.log.Warn("slack socket mode ack failed", "error", err)
		}
	}
	switch evt.Type {
	case socketmode.EventTypeConnected:
		s.log.Info("slack socket mode connected")
	case socketmode.EventTypeInvalidAuth, socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError:
		s.log.Error("slack socket mode", "event", string(evt.Type), "data", evt.Data)
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			s.log.Warn("slack socket mode interaction refused", "error", "unexpected event data")
			return
		}
		if cb.Type == slack.InteractionTypeViewSubmission { // acked above: the dialog closes
			s.socketReason(cb)
			return
		}
		c, status, why := s.checkClick(cb)
		if status != http.StatusOK {
			s.log.Warn("slack interaction refused", "transport", "socket_mode", "status", status, "error", why)
			return
		}
		if c != nil {
			s.takeClick(*c)
		}
	}
}

// socketReason takes a reason dialog's submission over Socket Mode.
func (s *Server) socketReason(cb slack.InteractionCallback) {
	c, errs, status, why := s.reasonClick(cb)
	if status != http.StatusOK || errs != nil {
		s.log.Warn("slack reason dialog refused", "transport", "socket_mode", "status", status, "error", why, "errors", errs)
		return
	}
	s.takeClick(*c)
}
