package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/slack-go/slack"
	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/slackui"
)

// SlackNotifier posts a Block Kit prompt to the gate's channel and keeps it
// truthful: decisions and outcomes update it (chat.update), reminders go in
// its thread. Its refs are "CHANNEL|TS". The messages are slackui's; this
// remembers which prompt is whose and what it shows. Slack errors are returned so that
// Temporal retries them.
type SlackNotifier struct {
	Client    *slack.Client
	UIURL     string // Temporal UI base URL, for the release link
	Namespace string
	// OnPage tells a gate whose decisions need the approver's own
	// signature (the approval role's policy): its prompt offers the
	// approval page instead of deciding buttons. nil: none does.
	OnPage func(env, gate string) bool

	mu      sync.Mutex
	prompts map[string]string            // release/gate -> ref of the prompt this process posted
	ranks   map[string]int               // ref -> rank of the last state shown
	open    map[string][]slackui.Waiting // digest/gate -> open prompts, oldest first
	updates sync.Mutex                   // one chat.update at a time, so ranks hold
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
	ref, err := slackui.Post(ctx, s.Client, n.SlackChannel, s.message(n))
	if err != nil {
		return "", slackError("chat.postMessage", n, err)
	}
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
	s.ranks[ref] = slackui.Rank(n)
	s.track(n)
}

// track keeps the open prompts per artifact and gate: a prompt whose gate
// closed leaves.
func (s *SlackNotifier) track(n api.Notification) {
	if n.ArtifactDigest == "" {
		return
	}
	if s.open == nil || len(s.open) > 10000 {
		s.open = map[string][]slackui.Waiting{}
	}
	key := n.ArtifactDigest + "/" + n.Gate
	list := slices.DeleteFunc(s.open[key], func(w slackui.Waiting) bool { return w.Release == n.ReleaseID })
	if slackui.Open(n) {
		list = append(list, slackui.Waiting{Release: n.ReleaseID, Env: n.Environment})
	}
	s.open[key] = list
}

// siblings are the other releases of n's artifact waiting at its gate.
func (s *SlackNotifier) siblings(n api.Notification) []slackui.Waiting {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []slackui.Waiting
	for _, w := range s.open[n.ArtifactDigest+"/"+n.Gate] {
		if w.Release != n.ReleaseID && len(out) < slackui.MaxSiblings {
			out = append(out, w)
		}
	}
	return out
}

// prompt is the ref of the gate's prompt: the workflow's, else the one this
// process posted (a decision can arrive before the workflow saw the ref).
func (s *SlackNotifier) prompt(n api.Notification) string {
	if _, _, ok := slackui.SplitRef(n.Ref); ok {
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
	if _, _, ok := slackui.SplitRef(ref); !ok {
		return s.post(ctx, n)
	}
	s.updates.Lock()
	defer s.updates.Unlock()
	if s.shown(ref) > slackui.Rank(n) {
		return ref, nil
	}
	if err := slackui.Update(ctx, s.Client, ref, s.message(n)); err != nil {
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
	if err := slackui.Reply(ctx, s.Client, ref, n.SlackChannel, slackui.ReminderText(n)); err != nil {
		return "", slackError("chat.postMessage (reminder)", n, err)
	}
	return ref, nil
}

// message is the prompt in n's state, offering the artifact's other
// releases waiting at the gate.
func (s *SlackNotifier) message(n api.Notification) []slack.MsgOption {
	onPage := s.OnPage != nil && s.OnPage(n.Environment, n.Gate)
	return slackui.Message(n, releaseURL(s.UIURL, s.Namespace, n.ReleaseID), s.siblings(n), onPage)
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
