package activities

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
)

func prompt() api.Notification {
	return api.Notification{Kind: api.NotifyPrompt, ReleaseID: "web-prod-42", Gate: "approval", Service: "web",
		Environment: "prod", Commit: commitA, Needed: "2 of prod-owners", Awaiting: []string{"alice", "bob"},
		Signed: []string{"carol"}, Deadline: time.Date(2030, 1, 2, 15, 4, 5, 0, time.UTC), ArtifactDigest: "d1g357"}
}

func TestConsoleNotifierPrintsPrompt(t *testing.T) {
	var out bytes.Buffer
	c := &ConsoleNotifier{W: &out, UIURL: "http://localhost:8233/"}
	ref, err := c.Notify(context.Background(), prompt())
	require.NoError(t, err)
	assert.Equal(t, "console:web-prod-42/approval", ref)
	for _, want := range []string{
		"approval needed", "web-prod-42", "web -> prod at " + commitA, "2 of prod-owners", "alice, bob", "carol",
		"2030-01-02T15:04:05Z", "d1g357",
		"starter decide web-prod-42 --gate approval --approve",
		"http://localhost:8233/namespaces/default/workflows/web-prod-42",
	} {
		assert.Contains(t, out.String(), want)
	}
}

func TestConsoleNotifierListsTheChange(t *testing.T) {
	var out bytes.Buffer
	n := prompt()
	n.CommitRef, n.CommitCount, n.Unmapped = "main", 2, []string{"zed@elsewhere.org"}
	n.Commits = []api.CommitLine{{Short: "c0ffee1", Subject: "Fix rounding", Author: "alice"},
		{Short: "bead123", Subject: "Export", Author: "zed@elsewhere.org"}}
	_, err := (&ConsoleNotifier{W: &out}).Notify(context.Background(), n)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "  change (2): c0ffee1 Fix rounding (alice)\n             bead123 Export (zed@elsewhere.org)\n")
	assert.Contains(t, out.String(), "  unmapped:  zed@elsewhere.org (map to nobody)")
}

func TestConsoleNotifierKeepsRefAndOmitsDecideOnOutcome(t *testing.T) {
	var out bytes.Buffer
	n := prompt()
	n.Kind, n.Outcome, n.Ref = api.NotifyOutcome, "approved", "console:web-prod-42/approval"
	ref, err := (&ConsoleNotifier{W: &out}).Notify(context.Background(), n)
	require.NoError(t, err)
	assert.Equal(t, n.Ref, ref)
	assert.Contains(t, out.String(), "approval ended: approved")
	assert.NotContains(t, out.String(), "starter decide")
}

func TestNotifyActivity(t *testing.T) {
	var out bytes.Buffer
	a := &ApprovalActivities{Identity: "foureyes-approval@test", Notifier: &ConsoleNotifier{W: &out}}
	res, err := execute[api.NotifyResult](t, a, a.Notify, prompt())
	require.NoError(t, err)
	assert.Equal(t, api.NotifyResult{Ref: "console:web-prod-42/approval", Executor: "foureyes-approval@test"}, res)
	assert.Contains(t, out.String(), "starter decide")
	reminder := prompt()
	reminder.Kind = api.NotifyReminder
	res, err = execute[api.NotifyResult](t, a, a.Notify, reminder)
	require.NoError(t, err)
	assert.Equal(t, api.NotifyResult{}, res, "only a prompt's answer is read: the others are empty")
	assert.Contains(t, out.String(), "reminder")

	none := &ApprovalActivities{}
	_, err = execute[api.NotifyResult](t, none, none.Notify, prompt())
	assert.ErrorContains(t, err, "no notifier")
}
