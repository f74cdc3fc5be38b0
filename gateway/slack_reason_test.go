package gateway

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/slackrec"
	"github.com/foureyes/foureyes/internal/slackui"
)

// rejectWithReason clicks Reject as user, checks the reason dialog opened
// (views.open with the click's trigger id) and returns the signed-to-be
// body of its submission with reason.
func (f *slackFixture) rejectWithReason(t *testing.T, user, reason string) string {
	body := click(user, api.SlackActionReject).Body()
	status, _ := f.post(t, "", body, signedNow(body))
	require.Equal(t, http.StatusOK, status)
	f.gw.WaitSlack()
	opens := f.slackAPI.Calls(slackrec.ViewsOpen)
	require.NotEmpty(t, opens, "the reject click opens the reason dialog")
	open := opens[len(opens)-1]
	assert.Equal(t, "1.2.3", open.Form.Get("trigger_id"))
	var view slack.ModalViewRequest
	require.NoError(t, json.Unmarshal([]byte(open.Form.Get("view")), &view))
	assert.Equal(t, slackui.ReasonView, view.CallbackID)
	require.Len(t, view.Blocks.BlockSet, 2)
	in, ok := view.Blocks.BlockSet[1].(*slack.InputBlock)
	require.True(t, ok, "%T", view.Blocks.BlockSet[1])
	assert.Equal(t, slackui.ReasonBlock, in.BlockID)
	return slackrec.Submission{Team: slackTeam, User: user, ViewID: "V0REASON1", CallbackID: view.CallbackID,
		Metadata: view.PrivateMetadata, Block: in.BlockID, Action: slackui.ReasonAction, Value: reason}.Body()
}

// Unsigned release: the reason reaches the workflow as the reject's comment.
func TestSlackRejectAsksForTheReason(t *testing.T) {
	f := newSlackFixture(t, &fakeClient{})
	sub := f.rejectWithReason(t, userBob, "  breaks the checkout  ")
	assert.Empty(t, f.signals(), "nothing is decided before the reason")
	status, _ := f.post(t, "", sub, signedNow(sub))
	require.Equal(t, http.StatusOK, status)
	sig := f.signals()
	require.Len(t, sig, 1)
	assert.Equal(t, api.VerdictReject, sig[0].Verdict)
	assert.Equal(t, "breaks the checkout", sig[0].Comment)
	assert.Equal(t, "bob", sig[0].Identity)
}

// An empty reason keeps the dialog open with its error; nothing decided.
func TestSlackRejectWithoutReasonStaysOpen(t *testing.T) {
	f := newSlackFixture(t, &fakeClient{})
	sub := f.rejectWithReason(t, userBob, "   ")
	req, err := slackrec.SignedRequest(f.srv.URL+"/slack/interactions", slackSecret, sub)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got slack.ViewSubmissionResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	assert.Equal(t, slack.RAErrors, got.ResponseAction)
	assert.Equal(t, "A rejection needs a reason: say why.", got.Errors[slackui.ReasonBlock])
	assert.Empty(t, f.signals())
}

func TestSlackReasonSubmissionRefusals(t *testing.T) {
	f := newSlackFixture(t, &fakeClient{})
	good := slackrec.Submission{Team: slackTeam, User: userBob, ViewID: "V1", CallbackID: slackui.ReasonView,
		Metadata: `{"r":"release-api-prod-1","g":"approval"}`, Block: slackui.ReasonBlock, Action: slackui.ReasonAction, Value: "no"}
	cases := map[string]struct {
		mod    func(*slackrec.Submission)
		status int
	}{
		"another team":    {func(s *slackrec.Submission) { s.Team = "T0OTHER" }, http.StatusForbidden},
		"another view":    {func(s *slackrec.Submission) { s.CallbackID = "other" }, http.StatusBadRequest},
		"forged metadata": {func(s *slackrec.Submission) { s.Metadata = `{"r":"a b","g":"deploy"}` }, http.StatusBadRequest},
		"no metadata":     {func(s *slackrec.Submission) { s.Metadata = "" }, http.StatusBadRequest},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			sub := good
			c.mod(&sub)
			body := sub.Body()
			status, _ := f.post(t, "", body, signedNow(body))
			assert.Equal(t, c.status, status)
		})
	}
	body := good.Body()
	status, _ := f.post(t, "", body, nil)
	assert.Equal(t, http.StatusUnauthorized, status, "unsigned")
	assert.Empty(t, f.signals())
}
