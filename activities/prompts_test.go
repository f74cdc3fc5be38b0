package activities

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/slackrec"
)

// recordedHistory is a release's history as the integration test recorded
// it (workflows/testdata/histories): before versionLeanNoticeInputs, so
// every notice in it carries every fact.
func recordedHistory(t *testing.T, name string) *historypb.History {
	f, err := os.Open(filepath.Join("..", "workflows", "testdata", "histories", name))
	require.NoError(t, err)
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	require.NoError(t, err)
	return hist
}

// recordedNotices are the history's notices in the order scheduled, with a
// reminder after each gate's prompt (no recorded release lived to one): the
// workflow builds it as the prompt, of kind reminder.
func recordedNotices(t *testing.T, hist *historypb.History) []api.Notification {
	var out []api.Notification
	for _, ev := range hist.Events {
		a := ev.GetActivityTaskScheduledEventAttributes()
		if a.GetActivityType().GetName() != api.ActivityNotify {
			continue
		}
		var n api.Notification
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &n))
		out = append(out, n)
		if n.Kind == api.NotifyPrompt {
			r := n
			r.Kind = api.NotifyReminder
			out = append(out, r)
		}
	}
	return out
}

// leanAsSent is n as the workflow sends it from versionLeanNoticeInputs
// (workflows/notify.go), through the activity's payload.
func leanAsSent(t *testing.T, n api.Notification) api.Notification {
	if n.Gate != "" && n.Kind != api.NotifyPrompt {
		n = n.Lean()
	}
	dc := converter.GetDefaultDataConverter()
	p, err := dc.ToPayload(n)
	require.NoError(t, err)
	var out api.Notification
	require.NoError(t, dc.FromPayload(p, &out))
	return out
}

// shown is what people are shown: the console's lines and every Slack
// call's form (channel, text, blocks, ts, thread).
type shown struct {
	console *bytes.Buffer
	slack   *slackrec.Server
}

func (s shown) calls() []url.Values {
	var out []url.Values
	for _, m := range []string{slackrec.PostMessage, slackrec.Update} {
		for _, c := range s.slack.Calls(m) {
			out = append(out, c.Form)
		}
	}
	return out
}

func newShown(t *testing.T) (shown, Notifiers) {
	srv := slackrec.New(t)
	s := shown{console: &bytes.Buffer{}, slack: srv}
	return s, Notifiers{&ConsoleNotifier{W: s.console, UIURL: "http://ui.test:8233/"},
		&SlackNotifier{Client: slack.New("xoxb-test", slack.OptionAPIURL(srv.URL())), UIURL: "http://ui.test:8233/"}}
}

// today is what the notices showed before versionLeanNoticeInputs: each
// full notice handed to the notifiers as it came.
func today(t *testing.T, notices []api.Notification) shown {
	s, ns := newShown(t)
	for _, n := range notices {
		_, err := ns.Notify(context.Background(), n)
		require.NoError(t, err)
	}
	return s
}

// historyOfRecord serves hist as the server's history of the calling run,
// counting the reads.
func historyOfRecord(hist *historypb.History, reads *int) historyOf {
	return func(context.Context, string, string) client.HistoryEventIterator {
		*reads++
		return &eventsOf{events: hist.Events}
	}
}

type eventsOf struct{ events []*historypb.HistoryEvent }

func (e *eventsOf) HasNext() bool { return len(e.events) > 0 }
func (e *eventsOf) Next() (*historypb.HistoryEvent, error) {
	ev := e.events[0]
	e.events = e.events[1:]
	return ev, nil
}

var noticeHistories = []string{"payments-prod-deployed-v9.json", "payments-prod-deployed-emergency-v9.json",
	"ledger-staging-rejected-unmapped-email-v9.json", "payments-prod-deployed-author-from-git-v9.json"}

// People see the same Slack messages (posts, updates, thread replies; their
// blocks, text and buttons) and console lines from a release's lean notices
// as from its full ones: every notice kind, on recorded releases.
func TestLeanNoticesShowWhatFullNoticesShowed(t *testing.T) {
	kinds := map[string]bool{}
	for _, name := range noticeHistories {
		t.Run(name, func(t *testing.T) {
			notices := recordedNotices(t, recordedHistory(t, name))
			want := today(t, notices)
			got, ns := newShown(t)
			a := &ApprovalActivities{Identity: "foureyes-approval@test", Notifier: ns}
			var before, after int
			for _, n := range notices {
				_, err := execute[api.NotifyResult](t, a, a.Notify, leanAsSent(t, n))
				require.NoError(t, err)
				kinds[n.Kind] = true
				before, after = before+payloadBytes(t, n), after+payloadBytes(t, leanAsSent(t, n))
			}
			t.Logf("%d notices (a reminder per gate added): %d bytes of input as recorded, %d lean", len(notices), before, after)
			assert.Less(t, after, before*2/3, "the notices' inputs")
			require.NotEmpty(t, want.calls())
			assert.Equal(t, want.calls(), got.calls(), "Slack")
			assert.Equal(t, want.console.String(), got.console.String(), "console")
		})
	}
	assert.Len(t, kinds, 4, "prompt, reminder, decision, outcome: %v", kinds)
}

// An approval role that did not handle a gate's prompt (it restarted,
// another replica did) reads the prompt from the calling run's history,
// once per gate, and shows each later notice as it was shown before.
func TestLeanNoticeAfterARestartTakesItsPromptFromHistory(t *testing.T) {
	hist := recordedHistory(t, "payments-prod-deployed-emergency-v9.json")
	var later []api.Notification
	gates := map[string]bool{}
	for _, n := range recordedNotices(t, hist) {
		if n.Kind != api.NotifyPrompt && n.Gate != "" {
			later, gates[n.Gate] = append(later, n), true
		}
	}
	want := today(t, later)
	got, ns := newShown(t)
	reads := 0
	restarted := &ApprovalActivities{Notifier: ns, Prompts: serverPromptsFrom(converter.GetDefaultDataConverter(), historyOfRecord(hist, &reads))}
	for _, n := range later {
		_, err := execute[api.NotifyResult](t, restarted, restarted.Notify, leanAsSent(t, n))
		require.NoError(t, err)
	}
	assert.Equal(t, len(gates), reads, "one history read per gate, then kept")
	assert.Equal(t, want.calls(), got.calls(), "Slack")
	assert.Equal(t, want.console.String(), got.console.String(), "console")
	assert.NotContains(t, got.console.String(), "facts are missing")
}

// A lean notice whose prompt is neither kept nor in history still goes
// out, saying that the release's facts are missing, to the channel of the
// prompt its ref names; while the history cannot be read (the server does
// not answer) it is retried first.
func TestLeanNoticeWithoutItsPromptIsStillSent(t *testing.T) {
	n := api.Notification{Kind: api.NotifyOutcome, ReleaseID: "web-prod-42", Gate: "approval", GateState: api.GateApproved,
		Detail: "gate approved", Ref: "C00000001|1700000000.000001", Signed: []string{"carol"}}
	got, ns := newShown(t)
	empty := &historypb.History{}
	a := &ApprovalActivities{Notifier: ns, Prompts: serverPromptsFrom(converter.GetDefaultDataConverter(), historyOfRecord(empty, new(int)))}
	_, err := execute[api.NotifyResult](t, a, a.Notify, n.Lean())
	require.NoError(t, err)
	assert.Contains(t, got.console.String(), "gate approved (the release's facts are missing here: its approval prompt could not be read: the history of default-test-workflow-id")
	updates := got.slack.Calls(slackrec.Update)
	require.Len(t, updates, 1, "the prompt is updated")
	assert.Equal(t, "C00000001", updates[0].Channel())
	assert.Contains(t, updates[0].BlocksText(), "facts are missing here")

	down := &ApprovalActivities{Notifier: ns, Prompts: serverPromptsFrom(converter.GetDefaultDataConverter(),
		func(context.Context, string, string) client.HistoryEventIterator {
			return failingHistory{serviceerror.NewUnavailable("connection refused")}
		})}
	_, err = execute[api.NotifyResult](t, down, down.Notify, n.Lean())
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	assert.False(t, appErr.NonRetryable(), "retried")
	assert.Contains(t, err.Error(), "connection refused")
	assert.Len(t, got.slack.Calls(slackrec.Update), 1, "nothing shown while the history may still be read")
}

// payloadBytes is the size of n as its activity input's payload.
func payloadBytes(t *testing.T, n api.Notification) int {
	p, err := converter.GetDefaultDataConverter().ToPayload(n)
	require.NoError(t, err)
	return len(p.GetData())
}

// The approval role keeps a release's prompts while it runs, and forgets
// them with its last notice (ended): a thousand ended releases' prompts grew
// the role's memory by 22 % over the 1,000-release soak.
func TestPromptsAreForgottenWhenTheReleaseEnds(t *testing.T) {
	notices := recordedNotices(t, recordedHistory(t, "payments-prod-deployed-v9.json"))
	require.True(t, notices[len(notices)-1].Ended, "the recorded release's last notice ends it")
	_, ns := newShown(t)
	a := &ApprovalActivities{Identity: "foureyes-approval@test", Notifier: ns}
	kept := 0
	for _, n := range notices[:len(notices)-1] {
		_, err := execute[api.NotifyResult](t, a, a.Notify, leanAsSent(t, n))
		require.NoError(t, err)
		kept = max(kept, len(a.kept.m))
	}
	assert.Equal(t, 2, kept, "the review and approval prompts, while the release runs")
	_, err := execute[api.NotifyResult](t, a, a.Notify, leanAsSent(t, notices[len(notices)-1]))
	require.NoError(t, err)
	assert.Empty(t, a.kept.m, "prompts kept after the release's last notice")
	assert.Empty(t, a.kept.order)
}

// A lean notice is completed with the prompt of the run that called the
// approval role, as the server names it, whatever release the notice
// claims: a run cannot dress its notices in another release's facts.
func TestLeanNoticeTakesTheCallingRunsPromptNotTheOneItNames(t *testing.T) {
	got, ns := newShown(t)
	a := &ApprovalActivities{Identity: "foureyes-approval@test", Notifier: ns}
	own := prompt()
	_, err := execute[api.NotifyResult](t, a, a.Notify, own)
	require.NoError(t, err)
	other := own
	other.ReleaseID, other.RunID, other.Kind, other.GateState = "payments-prod-other", "other-run", api.NotifyOutcome, api.GateApproved
	_, err = execute[api.NotifyResult](t, a, a.Notify, other.Lean())
	require.NoError(t, err)
	assert.NotContains(t, got.console.String(), "facts are missing", "the calling run's prompt was found")
	assert.Contains(t, got.console.String(), own.Service)
}
