package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/slackui"
)

// A gate's later notices (its reminder, decisions and outcome) come lean
// from versionLeanNoticeInputs of the Release workflow: the release's facts
// went with the gate's prompt (api.Notification.Lean). The approval role
// keeps each prompt it handled, and reads a prompt it did not (it
// restarted, another replica took it, the notice overtook it) from the
// calling run's history, as the workflow scheduled it.

// PromptReader finds the named gate's prompt in the calling run's history.
type PromptReader func(ctx context.Context, gate string) (api.Notification, error)

// ServerPromptsWith reads the calling run's history with the role's
// client, decoding its payloads with dc (the client's converter, which
// decrypts them).
func ServerPromptsWith(dc converter.DataConverter) PromptReader {
	return serverPromptsFrom(dc, serverHistory)
}

func serverPromptsFrom(dc converter.DataConverter, open historyOf) PromptReader {
	return func(ctx context.Context, gate string) (api.Notification, error) {
		var prompt api.Notification
		found := false
		run := activity.GetInfo(ctx).WorkflowExecution
		err := eachCallerEvent(ctx, open, func(ev *historypb.HistoryEvent) (bool, error) {
			n, ok, err := promptIn(dc, ev, gate)
			if err != nil {
				return true, fmt.Errorf("history of %s: %w", run.ID, err)
			}
			if ok {
				prompt, found = n, true
			}
			return ok, nil
		})
		if err == nil && !found {
			err = fmt.Errorf("the history of %s (run %s) holds no %s prompt", run.ID, run.RunID, gate)
		}
		return prompt, err
	}
}

// promptIn is the gate's prompt if ev scheduled it.
func promptIn(dc converter.DataConverter, ev *historypb.HistoryEvent, gate string) (api.Notification, bool, error) {
	var n api.Notification
	a := ev.GetActivityTaskScheduledEventAttributes()
	if a.GetActivityType().GetName() != api.ActivityNotify {
		return n, false, nil
	}
	if err := dc.FromPayloads(a.GetInput(), &n); err != nil {
		return n, false, fmt.Errorf("event %d (a notice): %w", ev.GetEventId(), err)
	}
	return n, n.Kind == api.NotifyPrompt && n.Gate == gate && !n.FromPrompt, nil
}

// maxPrompts bounds the prompts kept (a prompt is about 1 KB).
const maxPrompts = 4096

// prompts are the prompts this process handled, by run and gate; the
// oldest is forgotten first (a forgotten one is read from history).
type prompts struct {
	mu    sync.Mutex
	m     map[string]api.Notification
	order []string
}

func (p *prompts) get(key string) (api.Notification, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.m[key]
	return n, ok
}

func (p *prompts) put(key string, n api.Notification) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]api.Notification{}
	}
	if _, ok := p.m[key]; !ok {
		p.order = append(p.order, key)
	}
	p.m[key] = n
	for len(p.order) > maxPrompts {
		delete(p.m, p.order[0])
		p.order = p.order[1:]
	}
}

// forgetRun forgets every kept prompt of one run (a key prefix,
// promptRun): the approval role holds prompts only while their release
// runs, not a thousand ended releases' (the 1,000-release soak).
func (p *prompts) forgetRun(run string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.order[:0]
	for _, k := range p.order {
		if strings.HasPrefix(k, run) {
			delete(p.m, k)
			continue
		}
		kept = append(kept, k)
	}
	p.order = kept
}

// promptRun is the run part of a prompt key, slash included.
func promptRun(key string) string { return key[:strings.LastIndex(key, "/")+1] }

// promptKey names a gate's prompt: the calling run (from the task the
// server handed out, never the notice's word) and the gate.
func promptKey(ctx context.Context, gate string) string {
	run := activity.GetInfo(ctx).WorkflowExecution
	return run.ID + "/" + run.RunID + "/" + gate
}

// promptPatience is the attempts a lean notice waits for a history that
// cannot be read now (the server did not answer) before it goes out
// without the release's facts.
const promptPatience = 5

// complete is n as people are shown it: a prompt is kept; a lean notice
// gets its prompt's facts. Without them it still goes out, saying so,
// unless the history may yet be read (a retryable error).
func (a *ApprovalActivities) complete(ctx context.Context, n api.Notification) (api.Notification, error) {
	if !activity.IsActivity(ctx) {
		return n, nil // no calling run to take a prompt from
	}
	key := promptKey(ctx, n.Gate)
	if !n.FromPrompt {
		if n.Kind == api.NotifyPrompt && n.Gate != "" {
			a.kept.put(key, n)
		}
		return n, nil
	}
	p, err := a.prompt(ctx, key, n.Gate)
	if err == nil {
		if n.Ended {
			a.kept.forgetRun(promptRun(key)) // the release's last notice: its prompts are done
		}
		return n.Complete(p), nil
	}
	var u *CallerUnavailable
	if errors.As(err, &u) && activity.GetInfo(ctx).Attempt < promptPatience {
		return n, fmt.Errorf("the %s prompt of release %s, for its %s notice: %w", n.Gate, n.ReleaseID, n.Kind, err)
	}
	activity.GetLogger(ctx).Error("notice sent without the release's facts: its prompt was found neither kept nor in history",
		"release", n.ReleaseID, "gate", n.Gate, "kind", n.Kind, "error", err.Error())
	return withoutFacts(n, err), nil
}

// prompt is the gate's prompt: kept, else read from the calling run's
// history (and kept).
func (a *ApprovalActivities) prompt(ctx context.Context, key, gate string) (api.Notification, error) {
	if p, ok := a.kept.get(key); ok {
		return p, nil
	}
	if a.Prompts == nil {
		return api.Notification{}, errors.New("this approval role reads no history (no PromptReader)")
	}
	p, err := a.Prompts(ctx, gate)
	if err == nil {
		a.kept.put(key, p)
	}
	return p, err
}

// withoutFacts is a lean notice whose prompt was not found, as it is still
// sent: it says so, and Slack updates the prompt its ref names.
func withoutFacts(n api.Notification, err error) api.Notification {
	n.FromPrompt = false
	missing := fmt.Sprintf("(the release's facts are missing here: its %s prompt could not be read: %v)", n.Gate, err)
	n.Detail = strings.TrimSpace(n.Detail + " " + missing)
	if channel, _, ok := slackui.SplitRef(n.Ref); ok {
		n.SlackChannel = channel
	}
	return n
}
