package gateway

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/slackrec"
	"github.com/foureyes/foureyes/policy"
)

// newApproverSlackFixture: the release is in prod, whose approval gate
// takes only the approver's own signature, and the gateway serves the page.
func newApproverSlackFixture(t *testing.T, fake *fakeClient) *slackFixture {
	bd := signedBinding()
	bd.Environment = "prod"
	fake.binding = bd
	fake.outcomes = []api.DecisionOutcome{outcome(api.OutcomeAccepted)}
	pol := testPolicy()
	pol.Humans[0].Slack, pol.Humans[1].Slack = userBob, userAlice
	pol.Environments = map[string]policy.Environment{"prod": {Gates: map[string]policy.GateRule{
		policy.GateApproval: {Quorum: 1, Proof: policy.ProofApprover}}}}
	slackAPI := slackrec.New(t)
	logs := &syncBuffer{}
	gw := New(Options{Client: fake, Policy: pol, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		DecisionWait: 100 * time.Millisecond, PageURL: "https://approve.example.com",
		Slack: &SlackOptions{SigningSecret: slackSecret, TeamID: slackTeam,
			Client: slack.New("xoxb-test", slack.OptionAPIURL(slackAPI.URL()))}})
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(srv.Close)
	return &slackFixture{fake: fake, gw: gw, srv: srv, slackAPI: slackAPI, logs: logs}
}

// At an approver gate a click decides nothing: the clicker gets their own
// page link, privately; the Sign button and an older prompt's Approve
// button alike.
func TestSlackAtApproverGateAnswersWithThePage(t *testing.T) {
	for _, action := range []string{api.SlackActionSign, api.SlackActionApprove, api.SlackActionReject} {
		t.Run(action, func(t *testing.T) {
			f := newApproverSlackFixture(t, &fakeClient{})
			body := click(userBob, action).Body()
			status, _ := f.post(t, "", body, signedNow(body))
			require.Equal(t, http.StatusOK, status)
			assert.Empty(t, f.signals())
			f.fake.mu.Lock()
			assert.Empty(t, f.fake.updates, "nothing reached the release")
			f.fake.mu.Unlock()
			assert.Empty(t, f.slackAPI.Calls(slackrec.ViewsOpen), "no reason dialog: the page asks")
			eph := f.slackAPI.Calls(slackrec.PostEphemeral)
			require.Len(t, eph, 1)
			assert.Equal(t, userBob, eph[0].User())
			assert.Contains(t, eph[0].Text(), "https://approve.example.com/approve?")
			assert.Contains(t, eph[0].Text(), "as=bob")
		})
	}
}
