package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"go.opentelemetry.io/otel/attribute"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/slackui"
)

// SlackOptions enable Slack interactions: POST /slack/interactions (signed
// requests, with SigningSecret) and Socket Mode (RunSocketMode).
type SlackOptions struct {
	SigningSecret string
	TeamID        string        // only clicks from this workspace are taken
	Client        *slack.Client // the bot, for ephemeral replies to refused clickers
}

const (
	slackMaxBody = 1 << 20 // block_actions carry the whole message
	// seenFor covers the five-minute timestamp window either side of now.
	seenFor = 11 * time.Minute
	// slackWork bounds the decision (query, update or signal and poll) and
	// the ephemeral reply.
	slackWork = 30 * time.Second
	// slackDeciders is how many clicks are decided at once: a burst of
	// clicks is acknowledged first and decided a few at a time, so that its
	// decisions do not starve the acknowledgements still to be sent.
	slackDeciders = 8
)

type slackState struct {
	opts   SlackOptions
	sigs   recent // decoded signatures of verified requests: a second use is a replay
	clicks recent // request ids of clicks taken: a redelivery counts once
	work   sync.WaitGroup
	slots  chan struct{} // one per click being decided (slackDeciders)
}

func newSlackState(o *SlackOptions) *slackState {
	if o == nil {
		return nil
	}
	return &slackState{opts: *o, slots: make(chan struct{}, slackDeciders)}
}

// slackClick is one verified click on a prompt's button.
type slackClick struct {
	slackui.Click                     // who clicked where (Action, Verdict and Button only for buttons)
	req           api.DecisionRequest // what the click decides
	batch         []string            // "approve for staging and prod": every release of the artifact to decide
	reasoned      bool                // a rejection with the reason from the dialog
}

// handleSlackInteraction verifies a request from Slack, acknowledges it at
// once (Slack gives three seconds) and then takes the decision.
func (s *Server) handleSlackInteraction(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed: use POST")
		return
	}
	cb, status, why := s.readSlack(w, r)
	if status == http.StatusOK && cb.Type == slack.InteractionTypeViewSubmission {
		s.handleReasonView(w, r, cb)
		return
	}
	var c *slackClick
	if status == http.StatusOK {
		c, status, why = s.checkClick(cb)
	}
	if status != http.StatusOK {
		s.slackRefused(w, r, status, why)
		return
	}
	w.WriteHeader(http.StatusOK)
	if c != nil {
		s.takeClick(*c)
	}
}

// readSlack reads and verifies the raw body, then decodes its payload.
func (s *Server) readSlack(w http.ResponseWriter, r *http.Request) (slack.InteractionCallback, int, string) {
	var cb slack.InteractionCallback
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, slackMaxBody))
	switch {
	case tooLarge(err):
		return cb, http.StatusRequestEntityTooLarge, "body: " + err.Error()
	case err != nil:
		return cb, http.StatusBadRequest, "body: " + err.Error()
	}
	if why := s.verifySlack(r.Header, body); why != "" {
		return cb, http.StatusUnauthorized, why
	}
	if cb, err = slackui.Payload(body); err != nil {
		return cb, http.StatusBadRequest, err.Error()
	}
	return cb, http.StatusOK, ""
}

func (s *Server) slackRefused(w http.ResponseWriter, r *http.Request, status int, why string) {
	s.log.Warn("slack interaction refused", "remote", r.RemoteAddr, "status", status, "error", why,
		"retry", r.Header.Get("X-Slack-Retry-Num"))
	writeError(w, status, why)
}

// verifySlack checks the signature over the raw body and its timestamp
// (five minutes, slack-go), then that the signature was not seen before.
func (s *Server) verifySlack(h http.Header, body []byte) string {
	v, err := slack.NewSecretsVerifier(h, s.slack.opts.SigningSecret)
	if err != nil {
		return "signature: " + slackHeaderError(h, err).Error()
	}
	if _, err := v.Write(body); err != nil {
		return "signature: " + err.Error()
	}
	if err := v.Ensure(); err != nil {
		return "signature: " + err.Error()
	}
	// The replay key is the decoded signature, not the header text: slack-go
	// reads the hex in any case, so "ab" and "AB" are one request.
	sig, err := slackSignature(h)
	if err != nil { // slack-go took it; fail closed should it ever differ
		return "signature: " + err.Error()
	}
	if s.slack.sigs.seen(string(sig)) {
		return "signature: replayed request"
	}
	return ""
}

// slackSignature decodes X-Slack-Signature, "v0=" and the hex of an
// HMAC-SHA256, to the HMAC's bytes.
func slackSignature(h http.Header) ([]byte, error) {
	hexSig, ok := strings.CutPrefix(h.Get("X-Slack-Signature"), "v0=")
	if !ok {
		return nil, errors.New(`X-Slack-Signature header does not start with "v0="`)
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil {
		return nil, fmt.Errorf("X-Slack-Signature header is not hex: %w", err)
	}
	if len(sig) != sha256.Size {
		return nil, fmt.Errorf("X-Slack-Signature header has %d bytes, want %d (HMAC-SHA256)", len(sig), sha256.Size)
	}
	return sig, nil
}

// slackHeaderError names what is wrong with a malformed signature header,
// which slack-go reports only as "invalid signature" or a bare hex error.
func slackHeaderError(h http.Header, err error) error {
	if h.Get("X-Slack-Signature") == "" || h.Get("X-Slack-Request-Timestamp") == "" {
		return err // slack-go's "missing headers" says it
	}
	if _, bad := slackSignature(h); bad != nil {
		return bad
	}
	return err
}

// checkClick accepts only block_actions from the configured team. A nil
// click with 200 is an interaction that asks nothing of foureyes.
func (s *Server) checkClick(cb slack.InteractionCallback) (*slackClick, int, string) {
	switch {
	case s.slack.opts.TeamID == "" || cb.Team.ID != s.slack.opts.TeamID:
		return nil, http.StatusForbidden, fmt.Sprintf("team %q is not the configured workspace", cb.Team.ID)
	case cb.Type != slack.InteractionTypeBlockActions:
		return nil, http.StatusBadRequest, fmt.Sprintf("interaction type %q is not handled (only block_actions and the reason dialog's view_submission)", cb.Type)
	case cb.User.ID == "":
		return nil, http.StatusBadRequest, "payload names no user"
	}
	k, err := slackui.ParseClick(cb)
	switch {
	case err != nil:
		return nil, http.StatusBadRequest, err.Error()
	case k == nil:
		return nil, http.StatusOK, ""
	}
	return clickFor(*k)
}

// clickFor turns a click into a request; its id is the click's, so that a
// redelivery counts once.
func clickFor(k slackui.Click) (*slackClick, int, string) {
	c := &slackClick{Click: k}
	c.req = api.DecisionRequest{ReleaseID: k.Button.ReleaseID, Gate: k.Button.Gate, Verdict: k.Verdict,
		Comment: "via Slack", RequestID: k.ID()}
	check := c.req
	if k.Action == api.SlackActionSign {
		check.Verdict = api.VerdictApprove // the page asks for it
	}
	if bad := validateDecision(check); bad != nil {
		return nil, http.StatusBadRequest, "button value: " + bad.msg
	}
	if k.Action == api.SlackActionApproveAll {
		batch := api.BatchRequest{DecisionRequest: c.req, Releases: k.Button.Releases}
		if bad := validateBatch(&batch); bad != nil {
			return nil, http.StatusBadRequest, "button value: " + bad.msg
		}
		c.batch = batch.Releases
	}
	return c, http.StatusOK, ""
}

// takeClick decides in the background, after Slack has its answer, at most
// slackDeciders at once.
func (s *Server) takeClick(c slackClick) {
	if s.slack.clicks.seen(c.req.RequestID) {
		s.log.Info("slack click already taken", "request_id", c.req.RequestID, "user", c.User)
		return
	}
	s.slack.work.Add(1)
	go func() {
		defer s.slack.work.Done()
		s.slack.slots <- struct{}{}
		defer func() { <-s.slack.slots }()
		ctx, cancel := context.WithTimeout(context.Background(), slackWork)
		defer cancel()
		if s.sendPage(ctx, c) {
			return
		}
		if c.req.Verdict == api.VerdictReject && !c.reasoned {
			s.askReason(ctx, c)
			return
		}
		s.decideClick(ctx, c)
	}()
}

// decideClick decides as the clicker's policy identity, vouched for by the
// click's team, user and action time. An unknown Slack user decides as
// "slack:ID", which the workflow refuses as unknown and records (fail
// closed, in the audit trail). A clicker over the rate limit is told so,
// privately, and nothing reaches the workflow.
func (s *Server) decideClick(ctx context.Context, c slackClick) {
	who := s.clicker(c)
	var ans api.Answer
	status := http.StatusTooManyRequests
	if d := s.limits.wait(who.identity); d > 0 {
		ans.Error = "too many decisions: " + s.limits.describe(who.identity) + "; try again in " + retryAfter(d) + "s"
	} else if c.batch != nil {
		s.decideAllClick(ctx, who, c)
		return
	} else {
		var end func(int, ...attribute.KeyValue)
		ctx, end = s.inRelease(ctx, "decide", c.req.ReleaseID)
		ans, status = s.decide(ctx, who, c.req)
		defer end(status, decisionAttrs(who, c.req, ans)...)
	}
	s.log.InfoContext(ctx, "decision", "channel", api.ChannelSlack, "release", c.req.ReleaseID, "gate", c.req.Gate,
		"verdict", c.req.Verdict, "identity", who.identity, "slack_user", c.User, "request_id", c.req.RequestID,
		"outcome", ans.Outcome, "reason", ans.Reason, "error", ans.Error, "status", status)
	s.replyEphemeral(ctx, c, ephemeralText(c.req, ans))
}

// decideAllClick takes "approve for staging and prod": each release of
// the artifact decided on its own; the clicker is told, privately, what
// each gate made of it.
func (s *Server) decideAllClick(ctx context.Context, who caller, c slackClick) {
	b := s.decideAll(ctx, who, api.BatchRequest{DecisionRequest: c.req, Releases: c.batch})
	lines := []string{fmt.Sprintf("Your approval at the %s gate of %d releases of artifact sha256:%s:", c.req.Gate,
		len(c.batch), short(b.Digest))}
	if b.Error != "" {
		lines = []string{fmt.Sprintf("Your approval for several releases was not recorded: %s.", b.Error)}
	}
	for _, a := range b.Answers {
		what := a.Outcome
		if a.Reason != "" {
			what += ": " + withRule(a)
		}
		if a.Error != "" {
			what = a.Error
		}
		lines = append(lines, fmt.Sprintf("• %s: %s", a.ReleaseID, what))
	}
	s.replyEphemeral(ctx, c, strings.Join(lines, "\n"))
}

func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}

// clicker is the authenticated caller behind a verified click.
func (s *Server) clicker(c slackClick) caller {
	identity := "slack:" + c.User
	if s.policy != nil {
		if id, ok := s.policy.IdentityForSlack(c.User); ok {
			identity = id
		}
	}
	return caller{identity: identity, channel: api.ChannelSlack,
		evidence: attest.Evidence{Kind: "slack", SlackTeam: c.Team, SlackUser: c.User, ActionTS: c.ActionTS}}
}

func (s *Server) replyEphemeral(ctx context.Context, c slackClick, text string) {
	if text == "" || s.slack.opts.Client == nil {
		return
	}
	if err := slackui.Ephemeral(ctx, s.slack.opts.Client, c.Channel, c.User, text); err != nil {
		s.log.Warn("slack ephemeral reply failed", "user", c.User, "channel", c.Channel, "error", err)
	}
}

// ephemeralText tells the clicker why their click did not count; an
// accepted click shows in the updated prompt instead.
func ephemeralText(q api.DecisionRequest, a api.Answer) string {
	what := fmt.Sprintf("Your %s at the %s gate of %s", q.Verdict, q.Gate, q.ReleaseID)
	switch {
	case a.Error != "":
		return what + " was not recorded: " + a.Error + "."
	case a.Outcome == api.OutcomeRefused:
		return what + " was refused: " + withRule(a) + "."
	case a.Outcome == api.OutcomeGateClosed:
		return what + " was not counted: " + withRule(a) + "."
	case a.Outcome == api.OutcomePending:
		return what + " was sent but is not processed yet; the message updates when it is."
	}
	return ""
}

// withRule is the answer's reason with its rule's code, which people can
// quote and search for: "you authored this change (rule author)".
func withRule(a api.Answer) string {
	why := strings.TrimSuffix(a.Reason, ".")
	if a.Rule == "" {
		return why
	}
	return why + " (rule " + string(a.Rule) + ")"
}

// WaitSlack waits for clicks being decided in the background (for shutdown
// and tests).
func (s *Server) WaitSlack() {
	if s.slack != nil {
		s.slack.work.Wait()
	}
}

// recent is a set of keys that expire after seenFor.
type recent struct {
	mu   sync.Mutex
	keys map[string]time.Time
}

// seen reports whether key was seen within seenFor, and remembers it.
func (r *recent) seen(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if r.keys == nil {
		r.keys = map[string]time.Time{}
	}
	if exp, ok := r.keys[key]; ok && now.Before(exp) {
		return true
	}
	if len(r.keys) > 1000 {
		for k, exp := range r.keys {
			if now.After(exp) {
				delete(r.keys, k)
			}
		}
	}
	r.keys[key] = now.Add(seenFor)
	return false
}
