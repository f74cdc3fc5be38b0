package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/slack-go/slack"
	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
)

// slackActionsBlock is the block id of the prompt's buttons.
const slackActionsBlock = "foureyes_decide"

// maxSiblings bounds the releases one button approves (its value must stay
// within Slack's 2000 characters).
const maxSiblings = 5

// waiting is an open prompt of this process: a release waiting at a gate.
type waiting struct{ release, env string }

// SlackNotifier posts a Block Kit prompt to the gate's channel and keeps it
// truthful: decisions and outcomes update it (chat.update), reminders go in
// its thread. Its refs are "CHANNEL|TS". Slack errors are returned so that
// Temporal retries them.
type SlackNotifier struct {
	Client    *slack.Client
	UIURL     string // Temporal UI base URL, for the release link
	Namespace string

	mu      sync.Mutex
	prompts map[string]string    // release/gate -> ref of the prompt this process posted
	ranks   map[string]int       // ref -> rank of the last state shown
	open    map[string][]waiting // digest/gate -> open prompts, oldest first
	updates sync.Mutex           // one chat.update at a time, so ranks hold
}

// Notify implements Notifier. A gate without a Slack channel is left alone.
func (s *SlackNotifier) Notify(ctx context.Context, n api.Notification) (string, error) {
	if n.SlackChannel == "" || s.Client == nil {
		return n.Ref, nil
	}
	switch n.Kind {
	case api.NotifyPrompt:
		return s.post(ctx, n)
	case api.NotifyReminder:
		return s.remind(ctx, n)
	case api.NotifyDecision, api.NotifyOutcome:
		return s.update(ctx, n)
	}
	return n.Ref, nil
}

// post sends the prompt once per process: a retry after a lost result finds
// the message already posted.
func (s *SlackNotifier) post(ctx context.Context, n api.Notification) (string, error) {
	if ref := s.prompt(n); ref != "" {
		return ref, nil
	}
	ch, ts, err := s.Client.PostMessageContext(ctx, n.SlackChannel, s.message(n)...)
	if err != nil {
		return "", slackError("chat.postMessage", n, err)
	}
	ref := ch + "|" + ts
	s.remember(n, ref)
	return ref, nil
}

// remember keeps the prompt's ref and the state it shows. A long-running
// process forgets old prompts rather than grow without bound.
func (s *SlackNotifier) remember(n api.Notification, ref string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prompts == nil || len(s.ranks) > 10000 {
		s.prompts, s.ranks = map[string]string{}, map[string]int{}
	}
	s.prompts[n.ReleaseID+"/"+n.Gate] = ref
	s.ranks[ref] = rank(n)
	s.track(n)
}

// track keeps the open prompts per artifact and gate: a prompt whose gate
// closed leaves.
func (s *SlackNotifier) track(n api.Notification) {
	if n.ArtifactDigest == "" {
		return
	}
	if s.open == nil || len(s.open) > 10000 {
		s.open = map[string][]waiting{}
	}
	key := n.ArtifactDigest + "/" + n.Gate
	list := slices.DeleteFunc(s.open[key], func(w waiting) bool { return w.release == n.ReleaseID })
	if open(n) {
		list = append(list, waiting{release: n.ReleaseID, env: n.Environment})
	}
	s.open[key] = list
}

// siblings are the other releases of n's artifact waiting at its gate.
func (s *SlackNotifier) siblings(n api.Notification) []waiting {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []waiting
	for _, w := range s.open[n.ArtifactDigest+"/"+n.Gate] {
		if w.release != n.ReleaseID && len(out) < maxSiblings {
			out = append(out, w)
		}
	}
	return out
}

// prompt is the ref of the gate's prompt: the workflow's, else the one this
// process posted (a decision can arrive before the workflow saw the ref).
func (s *SlackNotifier) prompt(n api.Notification) string {
	if _, _, ok := splitRef(n.Ref); ok {
		return n.Ref
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prompts[n.ReleaseID+"/"+n.Gate]
}

// update shows a decision or outcome on the prompt. Notifications run
// concurrently, so a state older than the one shown is skipped. Without a
// prompt (it never reached Slack) the state is posted as a new message.
func (s *SlackNotifier) update(ctx context.Context, n api.Notification) (string, error) {
	ref := s.prompt(n)
	ch, ts, ok := splitRef(ref)
	if !ok {
		return s.post(ctx, n)
	}
	s.updates.Lock()
	defer s.updates.Unlock()
	if s.shown(ref) > rank(n) {
		return ref, nil
	}
	if _, _, _, err := s.Client.UpdateMessageContext(ctx, ch, ts, s.message(n)...); err != nil {
		return "", slackError("chat.update", n, err)
	}
	s.remember(n, ref)
	return ref, nil
}

func (s *SlackNotifier) shown(ref string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ranks[ref]
}

// remind replies in the prompt's thread (or the channel without a prompt).
func (s *SlackNotifier) remind(ctx context.Context, n api.Notification) (string, error) {
	ref := s.prompt(n)
	ch, ts, ok := splitRef(ref)
	opts := []slack.MsgOption{slack.MsgOptionText(reminderText(n), false)}
	if !ok {
		ch = n.SlackChannel
	} else {
		opts = append(opts, slack.MsgOptionTS(ts))
	}
	if _, _, err := s.Client.PostMessageContext(ctx, ch, opts...); err != nil {
		return "", slackError("chat.postMessage (reminder)", n, err)
	}
	return ref, nil
}

// rank orders the states of one prompt: more signers, then the gate closed,
// then the release ended.
func rank(n api.Notification) int {
	r := len(n.Signed)
	if !open(n) {
		r += 1000
	}
	if n.Ended {
		r += 1000
	}
	return r
}

// open reports whether the gate still takes decisions (its buttons stay).
func open(n api.Notification) bool {
	if n.Ended || n.Kind == api.NotifyOutcome {
		return false
	}
	return n.GateState == api.GateOpen || n.GateState == ""
}

func splitRef(ref string) (channel, ts string, ok bool) {
	channel, ts, ok = strings.Cut(ref, "|")
	return channel, ts, ok && channel != "" && ts != ""
}

// slackError keeps Slack's Retry-After as Temporal's next retry delay.
func slackError(method string, n api.Notification, err error) error {
	msg := fmt.Sprintf("slack %s for the %s of release %s", method, n.Kind, n.ReleaseID)
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return temporal.NewApplicationErrorWithOptions(msg+": "+err.Error(), "SlackRateLimited",
			temporal.ApplicationErrorOptions{NextRetryDelay: rl.RetryAfter, Cause: err})
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// buttonValue names the release, gate and prompt (the gate's deadline tells
// one opening of a gate from another).
func buttonValue(n api.Notification, others ...waiting) string {
	sum := sha256.Sum256([]byte(n.ReleaseID + "|" + n.Gate + "|" + n.Deadline.UTC().String()))
	v := api.SlackButton{ReleaseID: n.ReleaseID, Gate: n.Gate, Prompt: hex.EncodeToString(sum[:6])}
	for _, w := range others {
		v.Releases = append(v.Releases, w.release)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
