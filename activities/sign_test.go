package activities

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/testkeys"
)

var testPolicyHash = strings.Repeat("d", 64)

func TestBuildSignsProvenance(t *testing.T) {
	dir := t.TempDir()
	b := &BuildActivities{Identity: testBuilder, ArtifactDir: dir, Signer: buildKey}
	in := api.BuildInput{ReleaseID: "rel-1", Service: "web", Environment: "prod", Commit: commitA,
		PolicyHash: testPolicyHash, Authors: []string{"alice", "erin"}, Requester: "rita"}
	for _, attempt := range []string{"built", "reused by a retry"} {
		res, err := execute[api.BuildResult](t, b, b.Build, in)
		require.NoError(t, err, attempt)
		var p attest.Provenance
		verified(t, res.Provenance, attest.RoleBuild, attest.PredicateProvenance, res.Digest, &p)
		params := p.BuildDefinition.ExternalParameters
		require.NoError(t, params.Binding.Check(attest.Binding{Release: "rel-1", PolicySHA256: testPolicyHash}))
		assert.Equal(t, attest.BuildType, p.BuildDefinition.BuildType)
		assert.Equal(t, attest.BuildParameters{Binding: params.Binding, Service: "web", Environment: "prod",
			Commit: commitA, Authors: []string{"alice", "erin"}, Requester: "rita", ArtifactRef: res.ArtifactRef}, params, attempt)
		assert.Equal(t, testBuilder, p.RunDetails.Builder.ID)
		assert.Equal(t, "rel-1", p.RunDetails.Metadata.InvocationID)
		assert.False(t, p.RunDetails.Metadata.FinishedOn.Before(p.RunDetails.Metadata.StartedOn))
		assert.False(t, p.RunDetails.Metadata.StartedOn.IsZero())
	}
}

// Only the build role's key speaks for a build.
func TestProvenanceIsTheBuildRoles(t *testing.T) {
	res := build(t, t.TempDir(), "web", commitA)
	ring := testkeys.Ring()
	_, err := ring.Verify(res.Provenance, attest.RoleReview, attest.PredicateProvenance)
	assert.Equal(t, attest.CodeWrongRole, attest.CodeOf(err))
	_, err = ring.Verify(res.Provenance, attest.RoleBuild, attest.PredicateReview)
	assert.Equal(t, attest.CodeWrongType, attest.CodeOf(err))
}

func TestRolesWithoutKeyDoNothing(t *testing.T) {
	dir := t.TempDir()
	b := &BuildActivities{ArtifactDir: dir, Command: "exit 1"}
	_, err := execute[api.BuildResult](t, b, b.Build, api.BuildInput{ReleaseID: "rel-1", Service: "web", Commit: commitA})
	assert.Contains(t, requireAppError(t, err, ErrTypeNoSigningKey, true).Error(), "FOUREYES_BUILD_SIGNING_KEY_FILE")
	assert.Empty(t, listDir(t, dir), "nothing built")

	built := build(t, dir, "web", commitA)
	r := &ReviewActivities{ArtifactDir: dir}
	_, err = execute[api.ReviewResult](t, r, r.Review, reviewInput(built))
	assert.Contains(t, requireAppError(t, err, ErrTypeNoSigningKey, true).Error(), "FOUREYES_REVIEW_SIGNING_KEY_FILE")

	f := newDeployFixture(t)
	in := f.input(t, "rel-1", commitA)
	f.d.Signer = nil
	for _, fn := range []func(*DeployActivities) any{deployFn, verifyFn, rollbackFn} {
		_, err := execute[api.StepResult](t, f.d, fn(f.d), in)
		requireAppError(t, err, ErrTypeNoSigningKey, true)
	}
	assert.NoDirExists(t, f.d.step(in, "deploy").Dir, "nothing deployed, fenced or recorded")
}

func TestReviewSignsVerdict(t *testing.T) {
	dir := t.TempDir()
	b := build(t, dir, "web", commitA)
	r := &ReviewActivities{Identity: testReviewer, ArtifactDir: dir, Signer: reviewKey}
	in := reviewInput(b)
	in.PolicyHash = testPolicyHash
	for _, pass := range []bool{true, false} {
		if !pass {
			writeFile(t, b.ArtifactRef, "tampered")
		}
		res := review(t, r, in)
		require.Equal(t, pass, res.Passed)
		var v attest.Review
		verified(t, res.Attestation, attest.RoleReview, attest.PredicateReview, b.Digest, &v)
		require.NoError(t, v.Binding.Check(attest.Binding{Release: "rel-1", PolicySHA256: testPolicyHash}))
		assert.Equal(t, []any{commitA, pass, res.Findings, testReviewer},
			[]any{v.Commit, v.Passed, v.Findings, v.Reviewer})
		assert.False(t, v.At.IsZero())
	}
}

// A verdict is about a digest: without a well-formed one there is nothing
// to sign, and the input is refused.
func TestReviewRefusesMalformedDigest(t *testing.T) {
	dir := t.TempDir()
	in := reviewInput(build(t, dir, "web", commitA))
	in.Digest = "abc"
	r := &ReviewActivities{ArtifactDir: dir, Signer: reviewKey}
	_, err := execute[api.ReviewResult](t, r, r.Review, in)
	requireAppError(t, err, ErrTypeInvalidInput, true)
}

func TestDeployReceipts(t *testing.T) {
	f := newDeployFixture(t)
	in := f.input(t, "rel-1", commitA)
	f.d.VerifyCommand = `head -c 5000 /dev/zero | tr '\0' x; echo; echo VERIFIED`
	for _, s := range []struct {
		fn   func(*DeployActivities) any
		step string
	}{{deployFn, attest.StepDeploy}, {verifyFn, attest.StepVerify}, {rollbackFn, attest.StepRollback}} {
		if s.step == attest.StepRollback {
			in = verifyFailed(t, in)
		}
		res := f.step(t, s.fn, in)
		var r attest.Receipt
		verified(t, res.Receipt, attest.RoleDeploy, attest.PredicateDeploy, in.Digest, &r)
		require.NoError(t, r.Binding.Check(attest.Binding{Release: "rel-1", PolicySHA256: f.policyHash}))
		assert.Equal(t, []any{s.step, "web", "prod", commitA, res.OK, "foureyes-deploy@test"},
			[]any{r.Step, r.Service, r.Environment, r.Commit, r.OK, r.Deployer})
		assert.LessOrEqual(t, len(r.Output), 2048, "the receipt keeps the output's tail")
		assert.True(t, strings.HasSuffix(res.Output, r.Output), s.step)
		assert.False(t, r.At.IsZero())
	}
	assert.Nil(t, f.current(t), "rolled back")
}

// A step that ran and failed is signed too: the receipt says it failed.
func TestFailedVerifyHasReceipt(t *testing.T) {
	f := newDeployFixture(t)
	in := f.input(t, "rel-1", commitA)
	res := f.step(t, verifyFn, in)
	require.False(t, res.OK)
	var r attest.Receipt
	verified(t, res.Receipt, attest.RoleDeploy, attest.PredicateDeploy, in.Digest, &r)
	assert.False(t, r.OK)
	assert.Contains(t, r.Output, "no deploy record")
}
