package activities

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
)

// promotionPolicy: prod takes only what staging verified for an hour;
// staging (one approval) and prod allow emergencies, prod's skipping the
// promotion rule.
const promotionPolicy = `    requires: {environment: staging, verified_for: 1h}
    emergency: {slack_channel: "#incidents", skip_requires: true}
  staging:
    services_without_repository: allow
    emergency: {slack_channel: "#incidents"}
    gates:
      review: {groups: [reviewers], quorum: 1, bots_count: true, deadline: 24h}
      approval: {groups: [prod-owners], quorum: 1, deadline: 24h}
`

func newPromotionFixture(t *testing.T) *deployFixture {
	return newDeployFixtureWith(t, withKeys(fmt.Sprintf(testPolicyYAML, promotionPolicy)))
}

// stagingDeployed deploys commit to staging as release rel-s through the
// role's own Deploy and, when verify, Verify; it returns the input.
func stagingDeployed(t *testing.T, f *deployFixture, commit string, verify bool) api.DeployInput {
	in := f.inputFor(t, "rel-s", "staging", commit)
	require.True(t, f.step(t, deployFn, in).OK)
	if verify {
		require.True(t, f.step(t, verifyFn, in).OK)
	}
	return in
}

// soaked moves the staging record's verification back by d, as if time passed.
func soaked(t *testing.T, f *deployFixture, d time.Duration) {
	file := filepath.Join(f.state, "staging", "web.json")
	st, err := readState(file)
	require.NoError(t, err)
	require.False(t, st.VerifiedAt.IsZero(), "Verify recorded when it passed")
	st.VerifiedAt = st.VerifiedAt.Add(-d)
	require.NoError(t, writeState(file, st))
}

// promotion is the prod release rel-p promoting staging's rel-s: the same
// artifact and provenance, reviewed and approved anew.
func promotion(t *testing.T, f *deployFixture, staging api.DeployInput) api.DeployInput {
	in := f.input(t, "rel-p", staging.Commit)
	in.Promotes, in.Bundle.Provenance = staging.ReleaseID, staging.Bundle.Provenance
	return in
}

func refusedWith(t *testing.T, f *deployFixture, in api.DeployInput, want string) {
	t.Helper()
	_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
	assert.Contains(t, requireAppError(t, err, api.ErrTypeDeployRefused, true).Error(), "deploy refused: "+want)
	assert.Nil(t, f.current(t), "nothing deployed to prod")
}

func TestPromotionNeedsTheRolesOwnEvidence(t *testing.T) {
	t.Run("never deployed to staging", func(t *testing.T) {
		f := newPromotionFixture(t)
		in := f.input(t, "rel-p", commitA)
		refusedWith(t, f, in, "promotion rule: sha256:"+in.Digest[:12]+" was never deployed to staging")
	})
	t.Run("verified too recently", func(t *testing.T) {
		f := newPromotionFixture(t)
		in := promotion(t, f, stagingDeployed(t, f, commitA, true))
		refusedWith(t, f, in, "promotion rule: sha256:"+in.Digest[:12]+" was verified in staging at")
	})
	t.Run("deployed but never verified", func(t *testing.T) {
		f := newPromotionFixture(t)
		in := promotion(t, f, stagingDeployed(t, f, commitA, false))
		refusedWith(t, f, in, "promotion rule: sha256:"+in.Digest[:12]+" is deployed to staging (release rel-s) but was not verified")
	})
	t.Run("deployed but rolled back", func(t *testing.T) {
		f := newPromotionFixture(t)
		s := stagingDeployed(t, f, commitA, true)
		soaked(t, f, 2*time.Hour)
		require.True(t, f.step(t, rollbackFn, verifyFailed(t, s)).OK)
		refusedWith(t, f, promotion(t, f, s), "promotion rule: sha256:"+s.Digest[:12]+" was never deployed to staging")
	})
	t.Run("a different digest in staging", func(t *testing.T) {
		f := newPromotionFixture(t)
		stagingDeployed(t, f, commitB, true)
		soaked(t, f, 2*time.Hour)
		in := f.input(t, "rel-p", commitA)
		refusedWith(t, f, in, "promotion rule: staging runs sha256:")
	})
}

func TestPromotionDeploysWhatStagingProved(t *testing.T) {
	f := newPromotionFixture(t)
	s := stagingDeployed(t, f, commitA, true)
	soaked(t, f, 2*time.Hour)
	in := promotion(t, f, s)
	assert.True(t, f.step(t, deployFn, in).OK)
	assert.Equal(t, "rel-p", f.current(t).ReleaseID)
	d, err := f.d.deployment("web", "staging")
	require.NoError(t, err)
	assert.Equal(t, s.Digest, d.Digest, "Deployment reads the role's record")
}

func TestPromotionProvenanceMustBeThePromotedRelease(t *testing.T) {
	f := newPromotionFixture(t)
	s := stagingDeployed(t, f, commitA, true)
	soaked(t, f, 2*time.Hour)
	in := promotion(t, f, s)
	in.Promotes = "rel-other"
	refusedWith(t, f, in, `build provenance: bound to release "rel-s", not "rel-other"`)
	in = promotion(t, f, s)
	in.Promotes = in.ReleaseID // a release that names itself as the one it promotes
	refusedWith(t, f, in, "release rel-p names itself as the release it promotes")
	in = promotion(t, f, s)
	in.Bundle.Provenance = f.input(t, "rel-x", commitA).Bundle.Provenance // built for prod, not staging
	in.Promotes = "rel-x"
	refusedWith(t, f, in, "build provenance: built web for prod at "+commitA+", not web for staging")
}

// declared is rita's break-glass declaration for in, signed by s.
func declared(t *testing.T, in *api.DeployInput, s *attest.Signer, edit func(*attest.Emergency)) {
	e := attest.Emergency{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
		Scope:     attest.Scope{Service: in.Service, Environment: in.Environment},
		RequestID: "em-1", Identity: "rita", Channel: "api", Reason: "payments are down", At: time.Now().UTC()}
	if edit != nil {
		edit(&e)
	}
	env, err := s.Attest(attest.ReleaseSubject(in.ReleaseID), attest.PredicateEmergency, e)
	require.NoError(t, err)
	in.Bundle.Emergency = env
}

func TestEmergencySkipsThePromotionRuleWithTwoApprovers(t *testing.T) {
	f := newPromotionFixture(t)
	in := f.input(t, "rel-e", commitA)
	declared(t, &in, approvalKey, nil)
	assert.True(t, f.step(t, deployFn, in).OK)
}

func TestForgedEmergencyIsRefused(t *testing.T) {
	cases := map[string]struct {
		signer *attest.Signer
		edit   func(*attest.Emergency)
		want   string
	}{
		"signed by the build role":  {buildKey, nil, "emergency declaration: signed with the build role's key"},
		"declared by a non-manager": {approvalKey, func(e *attest.Emergency) { e.Identity = "carol" }, "emergency declaration: carol is not a release manager"},
		"without a reason":          {approvalKey, func(e *attest.Emergency) { e.Reason = " " }, "emergency declaration: an emergency needs a reason"},
		"for another release":       {approvalKey, func(e *attest.Emergency) { e.Release = "rel-9" }, `emergency declaration: bound to release "rel-9"`},
		"for another environment":   {approvalKey, func(e *attest.Emergency) { e.Environment = "staging" }, `emergency declaration: scoped to web in staging`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newPromotionFixture(t)
			in := f.input(t, "rel-e", commitA)
			declared(t, &in, c.signer, c.edit)
			refusedWith(t, f, in, c.want)
		})
	}
}

// In staging one approval passes the gate, but never in an emergency.
func TestEmergencyIsNeverOnePerson(t *testing.T) {
	f := newPromotionFixture(t)
	in := f.inputFor(t, "rel-e", "staging", commitA)
	decided(t, &in, approvalKey, in.Digest, nil, "review:bob", "approval:carol")
	assert.True(t, f.step(t, deployFn, in).OK, "one approval is the staging quorum")
	in = f.inputFor(t, "rel-e2", "staging", commitB)
	decided(t, &in, approvalKey, in.Digest, nil, "review:bob", "approval:carol")
	declared(t, &in, approvalKey, nil)
	_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
	assert.Contains(t, requireAppError(t, err, api.ErrTypeDeployRefused, true).Error(), "approval gate: quorum not met: 1 approvals counted [carol]")
}

func TestDeployedStatementCarriesTheSoak(t *testing.T) {
	f := newPromotionFixture(t)
	stagingDeployed(t, f, commitA, true)
	res, err := execute[api.DeployedResult](t, f.d, f.d.Deployed, api.DeployedInput{ReleaseID: "rel-p", Service: "web",
		Environment: "staging", PolicyHash: f.policyHash})
	require.NoError(t, err)
	var st attest.DeployedState
	f2, err := f.d.policies.load(f.d.PolicyFile)
	require.NoError(t, err)
	fact, err := f2.ring.Verify(res.Statement, attest.RoleDeploy, attest.PredicateDeployed)
	require.NoError(t, err)
	require.NoError(t, fact.Decode(&st))
	assert.False(t, st.VerifiedAt.IsZero())
	assert.False(t, st.DeployedAt.After(st.VerifiedAt))
}
