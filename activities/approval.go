package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
)

// Notifier tells people about a release; it returns a reference of the
// message so later notifications can update or thread under it.
type Notifier interface {
	Notify(ctx context.Context, n api.Notification) (string, error)
}

// ApprovalActivities are the approval role's activities.
type ApprovalActivities struct {
	Identity string
	Notifier Notifier
	// Prompts reads a gate's prompt from the calling run's history, for a
	// lean notice whose prompt this process did not keep (nil: such a
	// notice goes out without the release's facts, saying so).
	Prompts PromptReader

	kept prompts
}

// Notify hands one notification to the configured notifier.
func (a *ApprovalActivities) Notify(ctx context.Context, n api.Notification) (api.NotifyResult, error) {
	if a.Notifier == nil {
		return api.NotifyResult{}, errors.New("approval role has no notifier configured")
	}
	n, err := a.complete(ctx, n)
	if err != nil {
		return api.NotifyResult{}, err
	}
	ref, err := a.Notifier.Notify(ctx, n)
	var appErr *temporal.ApplicationError
	switch {
	case errors.As(err, &appErr):
		// Unwrapped: Temporal reads NextRetryDelay (Slack's Retry-After) only
		// from an ApplicationError returned as is.
		return api.NotifyResult{}, appErr
	case err != nil:
		return api.NotifyResult{}, fmt.Errorf("notify %s of release %s: %w", n.Kind, n.ReleaseID, err)
	case n.Kind != api.NotifyPrompt:
		return api.NotifyResult{}, nil // nobody reads it (NotifyResult)
	}
	return api.NotifyResult{Ref: ref, Executor: a.Identity}, nil
}

// Notifiers tells every notifier in turn (console, then Slack). The returned
// ref is the last one that differs from n.Ref, so a prompt's ref is Slack's
// when Slack posted it: only Slack updates a message by its ref. A failure
// does not keep the others from being told; the first is returned so that
// Temporal retries the notification.
type Notifiers []Notifier

// Notify implements Notifier.
func (ns Notifiers) Notify(ctx context.Context, n api.Notification) (string, error) {
	ref := n.Ref
	var first error
	for _, x := range ns {
		r, err := x.Notify(ctx, n)
		switch {
		case err != nil && first == nil:
			first = err
		case err == nil && r != "" && r != n.Ref:
			ref = r
		}
	}
	return ref, first
}

// ConsoleNotifier prints notifications as readable blocks, for the dev stack
// and for setups without Slack.
type ConsoleNotifier struct {
	W         io.Writer
	UIURL     string // Temporal UI base URL, e.g. http://localhost:8233
	Namespace string // for the UI link; empty means "default"

	mu sync.Mutex // one block at a time
}

// Notify prints n and returns its ref: the prompt's ref is kept for updates.
func (c *ConsoleNotifier) Notify(_ context.Context, n api.Notification) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.W, c.format(n)); err != nil {
		return "", err
	}
	if n.Ref != "" {
		return n.Ref, nil
	}
	return "console:" + n.ReleaseID + "/" + n.Gate, nil
}

func (c *ConsoleNotifier) format(n api.Notification) string {
	var b strings.Builder
	line := func(k, v string) {
		if k != "" {
			k += ":"
		}
		if v != "" {
			fmt.Fprintf(&b, "  %-10s %s\n", k, v)
		}
	}
	fmt.Fprintf(&b, "\n==== foureyes: %s ====\n", headline(n))
	line("release", n.ReleaseID)
	line("service", fmt.Sprintf("%s -> %s at %s", n.Service, n.Environment, n.Commit))
	line("link", n.Link)
	line("requester", n.Requester)
	line("authors", strings.Join(n.Authors, ", "))
	for i, c := range n.Commits {
		k := ""
		if i == 0 {
			k = fmt.Sprintf("change (%d)", n.CommitCount)
		}
		line(k, c.Line())
	}
	if len(n.Unmapped) > 0 {
		line("unmapped", strings.Join(n.Unmapped, ", ")+" (map to nobody)")
	}
	line("needed", n.Needed)
	line("signed", strings.Join(n.Signed, ", "))
	line("asked", strings.Join(n.Awaiting, ", "))
	if !n.Deadline.IsZero() {
		line("deadline", n.Deadline.UTC().Format(time.RFC3339))
	}
	line("digest", n.ArtifactDigest)
	line("policy", n.PolicyHash)
	line("outcome", n.Outcome)
	line("detail", n.Detail)
	if n.Kind == api.NotifyPrompt || n.Kind == api.NotifyReminder {
		line("decide", fmt.Sprintf("starter decide %s --gate %s --approve   (or --reject)", n.ReleaseID, n.Gate))
	}
	line("ui", releaseURL(c.UIURL, c.Namespace, n.ReleaseID))
	b.WriteString("====\n")
	return b.String()
}

// releaseURL links a release in the Temporal UI; namespace "" is "default".
func releaseURL(uiURL, namespace, releaseID string) string {
	if namespace == "" {
		namespace = "default"
	}
	return strings.TrimRight(uiURL, "/") + "/namespaces/" + namespace + "/workflows/" + releaseID
}

func headline(n api.Notification) string {
	gate := n.Gate
	if gate == "" {
		gate = "release"
	}
	switch n.Kind {
	case api.NotifyPrompt:
		return gate + " needed"
	case api.NotifyReminder:
		return "reminder: " + gate + " still needed"
	case api.NotifyDecision:
		return gate + " decision recorded"
	case api.NotifyOutcome:
		return gate + " ended: " + n.Outcome
	}
	return n.Kind + " " + gate
}
