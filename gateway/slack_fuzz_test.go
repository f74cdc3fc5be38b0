package gateway

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/slackrec"
	"github.com/foureyes/foureyes/policy"
)

// fuzzClick is a seed click on release r's gate by user.
func fuzzClick(user, action, value string) string {
	return slackrec.Click{Team: slackTeam, User: user, Channel: "C1", MessageTS: "1.2", ActionID: action,
		Value: value, ActionTS: "3.4"}.Body()
}

// FuzzSlackInteraction feeds arbitrary bodies, signed or not, to
// /slack/interactions. Whatever the body: no panic, a known status, nothing
// signalled unless the request was signed and answered 200, and any signal
// names a valid gate and verdict, as the clicker's policy identity
// (or "slack:USER", which the workflow refuses), under a scoped request id.
func FuzzSlackInteraction(f *testing.F) {
	value, _ := json.Marshal(api.SlackButton{ReleaseID: releaseID, Gate: "approval", Prompt: "p"})
	for _, body := range []string{
		fuzzClick(userBob, api.SlackActionApprove, string(value)),
		fuzzClick(userAlice, api.SlackActionReject, string(value)),
		fuzzClick("U0NOBODY1", api.SlackActionApprove, string(value)),
		fuzzClick(userBob, "other_action", string(value)),
		fuzzClick(userBob, api.SlackActionApprove, `{"release_id":"a b","gate":"deploy"}`),
		"payload=" + `{"type":"view_submission","team":{"id":"T0TEST"},"user":{"id":"U1"}}`,
		"payload=1&payload=2", "", "payload=%zz", "payload={",
	} {
		f.Add([]byte(body), true)
		f.Add([]byte(body), false)
	}
	slackAPI := slackrec.New(f)
	f.Fuzz(func(t *testing.T, body []byte, signed bool) {
		fake := &fakeClient{outcomes: []api.DecisionOutcome{outcome(api.OutcomeAccepted)}}
		pol := testPolicy()
		pol.Humans[0].Slack, pol.Humans[1].Slack = userBob, userAlice
		gw := New(Options{Client: fake, Policy: pol, Logger: slog.New(slog.DiscardHandler), DecisionWait: time.Millisecond,
			Slack: &SlackOptions{SigningSecret: slackSecret, TeamID: slackTeam,
				Client: slack.New("xoxb-test", slack.OptionAPIURL(slackAPI.URL()))}})
		req := httptest.NewRequest(http.MethodPost, "/slack/interactions", strings.NewReader(string(body)))
		if signed {
			slackrec.Sign(req.Header, slackSecret, string(body), time.Now())
		}
		rec := httptest.NewRecorder()
		gw.Handler().ServeHTTP(rec, req)
		gw.WaitSlack()
		checkFuzzedClick(t, pol, signed, rec.Code, fake.signals)
	})
}

func checkFuzzedClick(t *testing.T, pol *policy.Policy, signed bool, status int, signals []api.Decision) {
	if !slices.Contains([]int{200, 400, 401, 403, 413}, status) {
		t.Fatalf("status %d", status)
	}
	if !signed && status != http.StatusUnauthorized {
		t.Fatalf("unsigned request answered %d", status)
	}
	if len(signals) > maxBatch || (len(signals) > 0 && (!signed || status != http.StatusOK)) { // more than one: "approve for staging and prod"
		t.Fatalf("signed %v, status %d, signals %+v", signed, status, signals)
	}
	for _, d := range signals {
		known := slices.ContainsFunc(pol.Humans, func(h policy.Human) bool { return h.ID == d.Identity })
		switch {
		case !known && !strings.HasPrefix(d.Identity, "slack:"):
			t.Fatalf("signal as %q, neither a policy identity nor slack:USER", d.Identity)
		case !strings.HasPrefix(d.RequestID, d.Identity+"/slack-"):
			t.Fatalf("request id %q not scoped to %s", d.RequestID, d.Identity)
		case d.Channel != api.ChannelSlack || (d.Gate != "review" && d.Gate != "approval"):
			t.Fatalf("signal %+v", d)
		case d.Verdict != api.VerdictApprove && d.Verdict != api.VerdictReject:
			t.Fatalf("verdict %q", d.Verdict)
		}
	}
}
