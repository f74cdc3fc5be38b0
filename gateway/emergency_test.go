package gateway

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/testkeys"
)

// alice manages releases in this test's policy; the bot does not.
func TestEmergencyIsSignedForAReleaseManagerOnly(t *testing.T) {
	f := newSignedFixture(t, &fakeClient{}, func(o *Options) {
		for i := range o.Policy.Humans {
			if o.Policy.Humans[i].ID == "alice" {
				o.Policy.Humans[i].Groups = append(o.Policy.Humans[i].Groups, "rm")
			}
		}
		o.Policy.ReleaseManagers = []string{"rm"}
		o.PolicyHash = "cafe"
	})
	status, got, _ := f.post(t, "/v1/emergencies", tokenBot, `{"release_id":"rel-1","service":"web","environment":"prod","reason":"down"}`)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, got["error"], "scan-bot is not a release manager")

	status, got, _ = f.post(t, "/v1/emergencies", tokenAlice, `{"release_id":"rel-1","service":"web","environment":"prod","reason":" "}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "field reason: an emergency needs a reason", got["error"])

	status, got, _ = f.post(t, "/v1/emergencies", tokenAlice, `{"release_id":"rel-1","reason":"ledger down"}`)
	assert.Equal(t, http.StatusBadRequest, status, "a declaration names its service and environment")
	assert.Equal(t, "field service: required, a name (letters, digits, . _ -)", got["error"])

	status, got, _ = f.post(t, "/v1/emergencies", tokenAlice, `{"release_id":"rel-1","service":"web","environment":"prod","reason":"ledger down"}`)
	require.Equal(t, http.StatusOK, status, got)
	env, ok := got["envelope"].(map[string]any)
	require.True(t, ok)
	raw, err := jsonOf(env)
	require.NoError(t, err)
	fact, err := testkeys.Ring().Verify(attest.Envelope(raw), attest.RoleApproval, attest.PredicateEmergency)
	require.NoError(t, err)
	require.NoError(t, fact.CheckSubject(attest.ReleaseSubject("rel-1")))
	var e attest.Emergency
	require.NoError(t, fact.Decode(&e))
	assert.Equal(t, attest.Binding{Release: "rel-1", PolicySHA256: "cafe"}, e.Binding)
	assert.Equal(t, attest.Scope{Service: "web", Environment: "prod"}, e.Scope)
	assert.Equal(t, "alice", e.Identity)
	assert.Equal(t, "ledger down", e.Reason)
}

func jsonOf(v any) ([]byte, error) { return json.Marshal(v) }
