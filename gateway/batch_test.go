package gateway

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/slackrec"
	"github.com/foureyes/foureyes/internal/testkeys"
)

// batchFake holds staging and prod releases of one artifact (prod's gate
// refuses) and a release of another artifact.
func batchFake() *fakeClient {
	bd := func(id, digest string) api.Binding {
		b := signedBinding()
		b.ReleaseID, b.ArtifactDigest = id, digest
		return b
	}
	return &fakeClient{
		bindingOf: map[string]api.Binding{"rel-staging": bd("rel-staging", testDigest),
			"rel-prod": bd("rel-prod", testDigest), "rel-other": bd("rel-other", tokenHash("another artifact"))},
		resultOf: map[string]api.DecisionOutcome{"rel-staging": outcome(api.OutcomeAccepted),
			"rel-prod": outcome(api.OutcomeRefused)},
	}
}

const batchBody = `{"release_id":"rel-staging","release_ids":["rel-prod","rel-other","rel-staging"],` +
	`"gate":"approval","verdict":"approve","comment":"lgtm","request_id":"b-1"}`

// One approval for every release of the artifact: each gets its own
// signed decision, bound to it; prod's refusing gate does not stop
// staging's; a release of another artifact is not decided.
func TestBatchDecidesEachReleaseOfTheDigest(t *testing.T) {
	fake := batchFake()
	f := newSignedFixture(t, fake, nil)
	status, got, _ := f.post(t, api.PathBatch, tokenAlice, batchBody)
	require.Equal(t, http.StatusMultiStatus, status, "%v", got)
	assert.Equal(t, testDigest, got["artifact_digest"])
	answers := got["answers"].([]any)
	require.Len(t, answers, 3)
	outcomes := map[string]string{}
	for _, a := range answers {
		m := a.(map[string]any)
		outcomes[m["release_id"].(string)] = fmtAnswer(m)
		assert.Equal(t, "alice", m["identity"])
	}
	assert.Contains(t, outcomes["rel-staging"], "accepted")
	assert.Contains(t, outcomes["rel-prod"], "refused")
	assert.Contains(t, outcomes["rel-other"], "not decided: it runs artifact")
	require.Len(t, fake.updates, 2, "one signed decision per release of the digest")
	for i, want := range []string{"rel-staging", "rel-prod"} {
		o := fake.updates[i]
		assert.Equal(t, want, o.WorkflowID)
		fact, err := testkeys.Ring().Verify(envelopeOf(t, o), attest.RoleApproval, attest.PredicateDecision)
		require.NoError(t, err)
		var d attest.Decision
		require.NoError(t, fact.Decode(&d))
		assert.Equal(t, want, d.Binding.Release, "each decision is bound to its own release")
		assert.Equal(t, "alice/b-1", d.RequestID)
	}
}

func TestBatchAllAcceptedIs200(t *testing.T) {
	fake := batchFake()
	fake.resultOf["rel-prod"] = outcome(api.OutcomeAccepted)
	f := newSignedFixture(t, fake, nil)
	body := `{"release_id":"rel-staging","release_ids":["rel-prod"],"gate":"approval","verdict":"approve"}`
	status, got, _ := f.post(t, api.PathBatch, tokenAlice, body)
	assert.Equal(t, http.StatusOK, status, "%v", got)
	assert.Len(t, fake.updates, 2)
}

func TestBatchRefusals(t *testing.T) {
	tests := map[string]struct {
		body   string
		status int
		text   string
	}{
		"reject": {`{"release_id":"rel-staging","release_ids":["rel-prod"],"gate":"approval","verdict":"reject","comment":"no"}`,
			400, "only an approval is taken for several releases"},
		"bad id": {`{"release_id":"rel-staging","release_ids":["a b"],"gate":"approval","verdict":"approve"}`,
			400, "field release_ids"},
		"unbuilt first": {`{"release_id":"rel-new","release_ids":["rel-prod"],"gate":"approval","verdict":"approve"}`,
			409, "release rel-new has no signed artifact yet"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fake := batchFake()
			fake.bindingOf["rel-new"] = api.Binding{Signed: true}
			f := newSignedFixture(t, fake, nil)
			status, got, _ := f.post(t, api.PathBatch, tokenAlice, tc.body)
			assert.Equal(t, tc.status, status, "%v", got)
			assert.Contains(t, got["error"], tc.text)
			assert.Empty(t, fake.updates)
		})
	}
}

// "Approve for staging and prod" on Slack: each release decided on its
// own, the clicker told privately what each gate made of it.
func TestSlackApproveForEveryRelease(t *testing.T) {
	fake := batchFake()
	f := newSlackFixture(t, fake)
	f.gw.signer = testkeys.Signer(attest.RoleApproval)
	c := click(userBob, api.SlackActionApproveAll)
	v, _ := json.Marshal(api.SlackButton{ReleaseID: "rel-staging", Gate: "approval", Prompt: "p1",
		Releases: []string{"rel-prod", "rel-other"}})
	c.Value = string(v)
	body := c.Body()
	status, _ := f.post(t, "", body, signedNow(body))
	require.Equal(t, http.StatusOK, status)
	f.gw.WaitSlack()
	require.Len(t, fake.updates, 2)
	for i, want := range []string{"rel-staging", "rel-prod"} {
		assert.Equal(t, want, fake.updates[i].WorkflowID)
		d := envelopeOf(t, fake.updates[i])
		fact, err := testkeys.Ring().Verify(d, attest.RoleApproval, attest.PredicateDecision)
		require.NoError(t, err)
		var dec attest.Decision
		require.NoError(t, fact.Decode(&dec))
		assert.Equal(t, "bob", dec.Identity)
		assert.Equal(t, api.ChannelSlack, dec.Channel)
		assert.Equal(t, want, dec.Binding.Release)
	}
	eph := f.slackAPI.Calls(slackrec.PostEphemeral)
	require.Len(t, eph, 1)
	text := eph[0].Text()
	assert.Contains(t, text, "approval gate of 3 releases")
	assert.Contains(t, text, "rel-staging: accepted")
	assert.Contains(t, text, "rel-prod: refused")
	assert.Contains(t, text, "rel-other: not decided: it runs artifact")
}
