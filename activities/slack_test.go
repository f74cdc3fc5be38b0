package activities

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/slackrec"
)

func newSlack(t *testing.T) (*SlackNotifier, *slackrec.Server) {
	srv := slackrec.New(t)
	api := slack.New("xoxb-test", slack.OptionAPIURL(srv.URL()))
	return &SlackNotifier{Client: api, UIURL: "http://ui.test:8233/", Namespace: "prod-ns"}, srv
}

func slackPrompt() api.Notification {
	n := prompt()
	n.Signed, n.Quorum, n.GateState = nil, 2, "open"
	n.SlackChannel, n.Authors, n.Requester = "#releases-prod", []string{"alice"}, "rita"
	n.PolicyHash, n.ArtifactDigest = "0123456789abcdef0123", "fedcba9876543210fedc"
	n.Link = "https://git.test/web/commit/" + commitA
	return n
}

func TestSlackPromptPostsBlocksWithButtons(t *testing.T) {
	s, srv := newSlack(t)
	ref, err := s.Notify(context.Background(), slackPrompt())
	require.NoError(t, err)
	assert.Equal(t, "C00000001|1700000000.000001", ref)

	posts := srv.Calls(slackrec.PostMessage)
	require.Len(t, posts, 1)
	p := posts[0]
	assert.Equal(t, "#releases-prod", p.Channel())
	text := p.BlocksText()
	for _, want := range []string{"Approval needed: web → prod", "*Service*\nweb", "*Environment*\nprod",
		"<https://git.test/web/commit/" + commitA + "|aaaaaaa>", "*Authors*\nalice", "*Requester*\nrita",
		"`sha256:fedcba987654`", "`sha256:0123456789ab`", "2 of prod-owners", "<!date^1893596645^",
		"|2030-01-02T15:04:05Z>", "0 of 2: nobody yet", "*Can still sign:* alice, bob",
		"<http://ui.test:8233/namespaces/prod-ns/workflows/web-prod-42|web-prod-42 in Temporal>"} {
		assert.Contains(t, text, want)
	}
	approve, reject := p.Button(api.SlackActionApprove), p.Button(api.SlackActionReject)
	require.NotNil(t, approve)
	require.NotNil(t, reject)
	assert.Equal(t, slack.StylePrimary, approve.Style)
	assert.Equal(t, slack.StyleDanger, reject.Style)
	require.NotNil(t, approve.Confirm, "approve asks for confirmation")
	assert.Contains(t, approve.Confirm.Text.Text, "Approve the approval gate of web → prod")
	assert.Nil(t, reject.Confirm)
	var v api.SlackButton
	require.NoError(t, json.Unmarshal([]byte(approve.Value), &v))
	assert.Equal(t, "web-prod-42", v.ReleaseID)
	assert.Equal(t, "approval", v.Gate)
	assert.Len(t, v.Prompt, 12)
	assert.Equal(t, approve.Value, reject.Value)
}

func TestSlackPromptRetryDoesNotPostTwice(t *testing.T) {
	s, srv := newSlack(t)
	ref1, err := s.Notify(context.Background(), slackPrompt())
	require.NoError(t, err)
	ref2, err := s.Notify(context.Background(), slackPrompt())
	require.NoError(t, err)
	assert.Equal(t, ref1, ref2)
	assert.Len(t, srv.Calls(slackrec.PostMessage), 1)
}

func TestSlackDecisionUpdatesProgressThenOutcome(t *testing.T) {
	s, srv := newSlack(t)
	ref, err := s.Notify(context.Background(), slackPrompt())
	require.NoError(t, err)

	n := slackPrompt()
	n.Kind, n.Ref, n.Signed, n.Detail, n.Awaiting = api.NotifyDecision, ref, []string{"carol"}, "carol approved", []string{"dave"}
	_, err = s.Notify(context.Background(), n)
	require.NoError(t, err)
	ups := srv.Calls(slackrec.Update)
	require.Len(t, ups, 1)
	assert.Equal(t, "C00000001", ups[0].Channel())
	assert.Equal(t, "1700000000.000001", ups[0].TS())
	assert.Contains(t, ups[0].BlocksText(), "1 of 2: carol")
	assert.Contains(t, ups[0].BlocksText(), "carol approved")
	assert.NotNil(t, ups[0].Button(api.SlackActionApprove), "the gate is still open")

	n.Signed, n.GateState, n.Detail = []string{"carol", "dave"}, "approved", "dave approved"
	_, err = s.Notify(context.Background(), n)
	require.NoError(t, err)
	last := srv.Calls(slackrec.Update)[1]
	assert.Contains(t, last.BlocksText(), "Approval approved: web → prod")
	assert.Contains(t, last.BlocksText(), "2 of 2: carol, dave")
	assert.Empty(t, last.Buttons(), "a closed gate has no buttons")
}

func TestSlackReleaseOutcomeRemovesButtons(t *testing.T) {
	s, srv := newSlack(t)
	ref, err := s.Notify(context.Background(), slackPrompt())
	require.NoError(t, err)
	n := slackPrompt()
	n.Kind, n.Ref, n.Ended, n.Outcome, n.Detail = api.NotifyOutcome, ref, true, "rolled_back", "verification failed"
	n.Signed, n.GateState = []string{"carol", "dave"}, "approved"
	_, err = s.Notify(context.Background(), n)
	require.NoError(t, err)
	up := srv.Calls(slackrec.Update)[0]
	assert.Empty(t, up.Buttons())
	assert.Contains(t, up.BlocksText(), "Release rolled back: web → prod")
	assert.Contains(t, up.BlocksText(), ":x: *Release rolled back*\nverification failed")
	assert.Contains(t, up.Text(), "Release rolled back")
}

// Notifications run concurrently: an older state arriving late must not
// bring the buttons back.
func TestSlackSkipsStaleUpdate(t *testing.T) {
	s, srv := newSlack(t)
	ref, err := s.Notify(context.Background(), slackPrompt())
	require.NoError(t, err)
	final := slackPrompt()
	final.Kind, final.Ref, final.Ended, final.Outcome = api.NotifyOutcome, ref, true, "deployed"
	_, err = s.Notify(context.Background(), final)
	require.NoError(t, err)
	late := slackPrompt()
	late.Kind, late.Ref, late.Signed = api.NotifyDecision, ref, []string{"carol"}
	_, err = s.Notify(context.Background(), late)
	require.NoError(t, err)
	ups := srv.Calls(slackrec.Update)
	require.Len(t, ups, 1)
	assert.Contains(t, ups[0].BlocksText(), "Release deployed")
}

// A decision before the workflow knows the prompt's ref still updates the
// prompt this process posted.
func TestSlackDecisionWithoutRefFindsPrompt(t *testing.T) {
	s, srv := newSlack(t)
	_, err := s.Notify(context.Background(), slackPrompt())
	require.NoError(t, err)
	n := slackPrompt()
	n.Kind, n.Signed = api.NotifyDecision, []string{"carol"}
	_, err = s.Notify(context.Background(), n)
	require.NoError(t, err)
	require.Len(t, srv.Calls(slackrec.Update), 1)
	assert.Equal(t, "1700000000.000001", srv.Calls(slackrec.Update)[0].TS())

	// Another process (no prompt known) posts the state as a new message.
	other := &SlackNotifier{Client: s.Client}
	_, err = other.Notify(context.Background(), n)
	require.NoError(t, err)
	assert.Len(t, srv.Calls(slackrec.PostMessage), 2)
}

func TestSlackReminderGoesInThread(t *testing.T) {
	s, srv := newSlack(t)
	ref, err := s.Notify(context.Background(), slackPrompt())
	require.NoError(t, err)
	n := slackPrompt()
	n.Kind, n.Ref, n.Signed = api.NotifyReminder, ref, []string{"carol"}
	got, err := s.Notify(context.Background(), n)
	require.NoError(t, err)
	assert.Equal(t, ref, got)
	posts := srv.Calls(slackrec.PostMessage)
	require.Len(t, posts, 2)
	assert.Equal(t, "C00000001", posts[1].Channel())
	assert.Equal(t, "1700000000.000001", posts[1].ThreadTS())
	assert.Contains(t, posts[1].Text(), "Reminder: the approval gate of web → prod still needs 2 of prod-owners (1 of 2: carol)")
}

func TestSlackGateWithoutChannelIsLeftAlone(t *testing.T) {
	s, srv := newSlack(t)
	n := slackPrompt()
	n.SlackChannel = ""
	ref, err := s.Notify(context.Background(), n)
	require.NoError(t, err)
	assert.Empty(t, ref)
	assert.Empty(t, srv.Calls(slackrec.PostMessage))
}

// Slack's errors come back so that Temporal retries; a rate limit carries
// Retry-After as the next retry delay, through the Notify activity.
func TestSlackErrorsAreRetried(t *testing.T) {
	s, srv := newSlack(t)
	srv.Fail(slackrec.PostMessage, slackrec.Failure{Status: 429, Header: map[string]string{"Retry-After": "7"}})
	_, err := s.Notify(context.Background(), slackPrompt())
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, "SlackRateLimited", appErr.Type())
	assert.Equal(t, 7*time.Second, appErr.NextRetryDelay())
	assert.False(t, appErr.NonRetryable())

	srv.Fail(slackrec.PostMessage, slackrec.Failure{Status: 200, Body: `{"ok":false,"error":"channel_not_found"}`})
	_, err = s.Notify(context.Background(), slackPrompt())
	assert.ErrorContains(t, err, "channel_not_found")

	srv.Fail(slackrec.PostMessage, slackrec.Failure{Status: 429, Header: map[string]string{"Retry-After": "3"}})
	a := &ApprovalActivities{Identity: "foureyes-approval@test", Notifier: Notifiers{&ConsoleNotifier{W: io.Discard}, s}}
	_, err = execute[api.NotifyResult](t, a, a.Notify, slackPrompt())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rate limit")

	res, err := execute[api.NotifyResult](t, a, a.Notify, slackPrompt())
	require.NoError(t, err)
	assert.Equal(t, "C00000001|1700000000.000001", res.Ref, "the Slack ref wins over the console's")
}

func TestNotifiersTellEveryoneAndReturnFirstError(t *testing.T) {
	boom := errors.New("boom")
	var told []string
	mk := func(name, ref string, err error) Notifier {
		return notifierFunc(func(_ context.Context, n api.Notification) (string, error) {
			told = append(told, name)
			return ref, err
		})
	}
	ref, err := Notifiers{mk("console", "console:x", nil), mk("slack", "", boom), mk("third", "", nil)}.
		Notify(context.Background(), api.Notification{})
	assert.Equal(t, []string{"console", "slack", "third"}, told)
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, "console:x", ref)
}

type notifierFunc func(context.Context, api.Notification) (string, error)

func (f notifierFunc) Notify(ctx context.Context, n api.Notification) (string, error) {
	return f(ctx, n)
}

func TestSlackPromptListsTheChange(t *testing.T) {
	s, srv := newSlack(t)
	n := slackPrompt()
	n.CommitRef, n.CommitCount = "main", 3
	n.Commits = []api.CommitLine{{Short: "c0ffee1", Subject: "Fix <rounding>", Author: "alice"},
		{Short: "bead123", Subject: "Add ledger export", Author: "zed@elsewhere.org"}}
	n.Unmapped = []string{"zed@elsewhere.org"}
	_, err := s.Notify(context.Background(), n)
	require.NoError(t, err)
	text := srv.Calls(slackrec.PostMessage)[0].BlocksText()
	for _, want := range []string{"*Change* (3 commits of main, from git):", "`c0ffee1` Fix &lt;rounding&gt; — alice",
		"`bead123` Add ledger export — zed@elsewhere.org", "… and 1 more", "*Emails that map to nobody:* zed@elsewhere.org"} {
		assert.Contains(t, text, want)
	}
}

// Staging and prod of one artifact wait at approval: prod's prompt gets
// "Approve for staging and prod", naming the staging release; once
// staging's gate closed, the button is gone.
func TestSlackPromptOffersApproveForEveryWaitingRelease(t *testing.T) {
	s, srv := newSlack(t)
	staging := slackPrompt()
	staging.ReleaseID, staging.Environment = "web-staging-7", "staging"
	_, err := s.Notify(context.Background(), staging)
	require.NoError(t, err)
	assert.Nil(t, srv.Calls(slackrec.PostMessage)[0].Button(api.SlackActionApproveAll), "alone, no such button")
	prod := slackPrompt()
	_, err = s.Notify(context.Background(), prod)
	require.NoError(t, err)
	all := srv.Calls(slackrec.PostMessage)[1].Button(api.SlackActionApproveAll)
	require.NotNil(t, all)
	assert.Equal(t, "Approve for staging and prod", all.Text.Text)
	require.NotNil(t, all.Confirm)
	assert.Contains(t, all.Confirm.Text.Text, "approval gate of 2 releases of web")
	var v api.SlackButton
	require.NoError(t, json.Unmarshal([]byte(all.Value), &v))
	assert.Equal(t, "web-prod-42", v.ReleaseID)
	assert.Equal(t, []string{"web-staging-7"}, v.Releases)

	staging.Kind, staging.GateState = api.NotifyOutcome, "approved"
	_, err = s.Notify(context.Background(), staging)
	require.NoError(t, err)
	prod.Kind, prod.Signed = api.NotifyDecision, []string{"bob"}
	_, err = s.Notify(context.Background(), prod)
	require.NoError(t, err)
	ups := srv.Calls(slackrec.Update)
	require.NotEmpty(t, ups)
	last := ups[len(ups)-1]
	assert.NotNil(t, last.Button(api.SlackActionApprove))
	assert.Nil(t, last.Button(api.SlackActionApproveAll), "staging's gate closed")
}

func TestSlackPromptFlagsAnEmergency(t *testing.T) {
	s, srv := newSlack(t)
	n := slackPrompt()
	n.Emergency = "card payments failing"
	_, err := s.Notify(context.Background(), n)
	require.NoError(t, err)
	text := srv.Calls(slackrec.PostMessage)[0].BlocksText()
	assert.Contains(t, text, "Approval needed: EMERGENCY web → prod")
	assert.Contains(t, text, "*EMERGENCY* (break-glass): card payments failing")
}
