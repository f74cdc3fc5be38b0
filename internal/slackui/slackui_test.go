package slackui

import (
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/slackrec"
)

func prompt() api.Notification {
	return api.Notification{Kind: api.NotifyPrompt, ReleaseID: "rel-1", Gate: "approval", Service: "web",
		Environment: "prod", Commit: "0123456789abcdef0123456789abcdef01234567", GateState: api.GateOpen,
		Deadline: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
}

// The button value is in recorded Slack messages: its bytes must not change.
func TestButtonValueIsByteIdentical(t *testing.T) {
	assert.Equal(t, `{"release_id":"rel-1","gate":"approval","prompt":"5d09bdc629e6"}`, ButtonValue(prompt()))
	assert.Equal(t, `{"release_id":"rel-1","gate":"approval","prompt":"5d09bdc629e6","releases":["rel-0"]}`,
		ButtonValue(prompt(), Waiting{Release: "rel-0", Env: "staging"}))
}

// actions posts msg to a recording Slack and returns the action ids of its
// buttons, in order.
func actions(t *testing.T, msg []slack.MsgOption) []string {
	srv := slackrec.New(t)
	ref, err := Post(t.Context(), slack.New("xoxb-test", slack.OptionAPIURL(srv.URL())), "C1", msg)
	require.NoError(t, err)
	_, _, ok := SplitRef(ref)
	require.True(t, ok, ref)
	var ids []string
	for _, b := range srv.Calls(slackrec.PostMessage)[0].Buttons() {
		ids = append(ids, b.ActionID)
	}
	return ids
}

func TestMessageHasButtonsOnlyWhileTheGateIsOpen(t *testing.T) {
	n := prompt()
	assert.Equal(t, []string{api.SlackActionApprove, api.SlackActionReject}, actions(t, Message(n, "http://ui", nil, false)))
	assert.Equal(t, []string{api.SlackActionApprove, api.SlackActionApproveAll, api.SlackActionReject},
		actions(t, Message(n, "http://ui", []Waiting{{Release: "rel-0", Env: "staging"}}, false)))
	n.GateState = "approved"
	assert.Empty(t, actions(t, Message(n, "http://ui", nil, false)))
	assert.Empty(t, actions(t, Message(n, "http://ui", nil, true)))
	assert.Greater(t, Rank(n), Rank(prompt()), "a closed gate outranks an open one")
}

// At a gate whose proof is "approver" a click cannot decide: the prompt's
// one button asks for the clicker's approval page, whatever else waits.
func TestApproverGateOffersOnlyThePage(t *testing.T) {
	n := prompt()
	assert.Equal(t, []string{api.SlackActionSign},
		actions(t, Message(n, "http://ui", []Waiting{{Release: "rel-0", Env: "staging"}}, true)))
}

func TestMessageWithoutGitHasNoChangeSection(t *testing.T) {
	assert.Empty(t, changeText(prompt()))
}

func TestSplitRef(t *testing.T) {
	ch, ts, ok := SplitRef("C1|1700000000.1")
	assert.True(t, ok)
	assert.Equal(t, []string{"C1", "1700000000.1"}, []string{ch, ts})
	for _, bad := range []string{"", "C1", "C1|", "|1700000000.1"} {
		_, _, ok := SplitRef(bad)
		assert.False(t, ok, bad)
	}
}

func click(action, value string) slackrec.Click {
	return slackrec.Click{Team: "T1", User: "U1", Channel: "C1", MessageTS: "1700000000.000001",
		ActionID: action, Value: value, ActionTS: "1700000100.123456"}
}

func parse(t *testing.T, c slackrec.Click) (*Click, error) {
	cb, err := Payload([]byte(c.Body()))
	require.NoError(t, err)
	return ParseClick(cb)
}

// A click reads back the button ButtonValue wrote; its id is the same for
// a redelivery and differs between actions.
func TestParseClickReadsTheButton(t *testing.T) {
	k, err := parse(t, click(api.SlackActionApproveAll, ButtonValue(prompt(), Waiting{Release: "rel-0"})))
	require.NoError(t, err)
	assert.Equal(t, api.SlackButton{ReleaseID: "rel-1", Gate: "approval", Prompt: "5d09bdc629e6", Releases: []string{"rel-0"}}, k.Button)
	assert.Equal(t, api.VerdictApprove, k.Verdict)
	assert.Equal(t, []string{"T1", "U1", "C1", "1700000000.000001", "1700000100.123456"},
		[]string{k.Team, k.User, k.Channel, k.MessageTS, k.ActionTS})
	again, err := parse(t, click(api.SlackActionApproveAll, ButtonValue(prompt())))
	require.NoError(t, err)
	assert.Equal(t, k.ID(), again.ID())
	reject, err := parse(t, click(api.SlackActionReject, ButtonValue(prompt())))
	require.NoError(t, err)
	assert.Equal(t, api.VerdictReject, reject.Verdict)
	assert.NotEqual(t, k.ID(), reject.ID())
}

func TestParseClickIgnoresOtherActionsAndRefusesForeignValues(t *testing.T) {
	k, err := parse(t, click("someone_elses", "x"))
	assert.NoError(t, err)
	assert.Nil(t, k)
	_, err = parse(t, click(api.SlackActionApprove, "not json"))
	assert.ErrorContains(t, err, "button value is not foureyes'")
}

func TestPayloadNeedsExactlyOnePayloadField(t *testing.T) {
	for _, body := range []string{"", "payload=", "payload=a&payload=b"} {
		_, err := Payload([]byte(body))
		assert.ErrorContains(t, err, "exactly one payload field", body)
	}
	_, err := Payload([]byte("payload=%7B"))
	assert.ErrorContains(t, err, "malformed payload JSON")
}

func TestReasonDialogRoundTrip(t *testing.T) {
	meta := ReasonMeta{Release: "rel-1", Gate: "approval", Channel: "C1", MessageTS: "1.1", ActionTS: "2.2"}
	view := ReasonModal(meta, 500)
	sub := slackrec.Submission{Team: "T1", User: "U1", ViewID: "V1", CallbackID: view.CallbackID,
		Metadata: view.PrivateMetadata, Block: ReasonBlock, Action: ReasonAction, Value: "  broken  "}
	cb, err := Payload([]byte(sub.Body()))
	require.NoError(t, err)
	r, err := ParseReason(cb)
	require.NoError(t, err)
	assert.Equal(t, meta, r.ReasonMeta)
	assert.Equal(t, "broken", r.Text)
	sub.CallbackID = "other"
	cb, err = Payload([]byte(sub.Body()))
	require.NoError(t, err)
	_, err = ParseReason(cb)
	assert.ErrorContains(t, err, "not foureyes' reason dialog")
}
