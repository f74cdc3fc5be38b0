package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/judge"
)

type deployFixture struct {
	artifacts, state string
	policyHash       string
	d                *DeployActivities
	editCaller       func(*Caller)
}

func newDeployFixture(t *testing.T) *deployFixture {
	return newDeployFixtureWith(t, withKeys(fmt.Sprintf(testPolicyYAML, "")))
}

// newDeployFixtureWith gives the deploy role the policy content.
func newDeployFixtureWith(t *testing.T, content string) *deployFixture {
	f := &deployFixture{artifacts: t.TempDir(), state: t.TempDir()}
	path, hash := writePolicy(t, content)
	f.policyHash = hash
	f.d = &DeployActivities{Identity: "foureyes-deploy@test", ArtifactDir: f.artifacts, StateDir: f.state,
		PolicyFile: path, Signer: deployKey, Caller: f.testCaller}
	return f
}

// testRunID is the run of every test release.
const testRunID = "default-test-run-id" // the SDK test environment's run: receipts name it

// testCaller plays the server's part: the release that called is the one
// the deploy input names, started for its service and environment by
// rita, and its history holds the bundle's provenance and review as its
// Build and Review results and its decisions as decide Updates (its
// emergency as its request's). editCaller, when set, changes it.
func (f *deployFixture) testCaller(ctx context.Context) (Caller, error) {
	return testCaller(ctx, f.editCaller)
}

func testCaller(ctx context.Context, edit func(*Caller)) (Caller, error) {
	args, _ := ctx.Value(argsKey{}).([]any)
	if len(args) == 0 {
		return Caller{}, errors.New("test: no activity arguments in the context")
	}
	in, _ := args[0].(api.DeployInput)
	c := Caller{ID: in.ReleaseID, RunID: testRunID, Type: api.WorkflowRelease,
		Request: api.ReleaseRequest{Service: in.Service, Environment: in.Environment, Requester: testRequester}}
	if in.Promotes != "" {
		c.Request.Promotes = &api.Promotion{Release: in.Promotes}
	}
	if in.Bundle != nil {
		c.Provenance, c.Review = in.Bundle.Provenance, in.Bundle.Review
		c.Request.Emergency = in.Bundle.Emergency
		for _, d := range in.Bundle.Decisions {
			c.Requests = append(c.Requests, judge.Request{Kind: api.UpdateDecide, Envelope: d})
		}
	}
	if edit != nil {
		edit(&c)
	}
	return c, nil
}

// input builds commit's artifact for release id (authored by alice,
// requested by rita), has it reviewed, and returns the deploy input with
// the bundle a release approved by bob, then carol and dave, carries.
func (f *deployFixture) input(t *testing.T, id, commit string) api.DeployInput {
	t.Helper()
	return f.inputFor(t, id, "prod", commit)
}

// inputFor is input for a release to environment env.
func (f *deployFixture) inputFor(t *testing.T, id, env, commit string) api.DeployInput {
	t.Helper()
	b := &BuildActivities{Identity: testBuilder, ArtifactDir: f.artifacts, Signer: buildKey}
	built, err := execute[api.BuildResult](t, b, b.Build, api.BuildInput{ReleaseID: id, Service: "web", Environment: env,
		Commit: commit, PolicyHash: f.policyHash, Authors: []string{testAuthor}, Requester: testRequester})
	require.NoError(t, err)
	r := &ReviewActivities{Identity: testReviewer, ArtifactDir: f.artifacts, Signer: reviewKey}
	reviewed := review(t, r, api.ReviewInput{ReleaseID: id, Service: "web", Commit: commit,
		ArtifactRef: built.ArtifactRef, Digest: built.Digest, PolicyHash: f.policyHash})
	in := api.DeployInput{ReleaseID: id, Service: "web", Environment: env, Commit: commit,
		ArtifactRef: built.ArtifactRef, Digest: built.Digest, PolicyHash: f.policyHash,
		Bundle: &api.Bundle{Provenance: built.Provenance, Review: reviewed.Attestation}}
	for _, d := range []struct{ gate, who string }{{"review", "bob"}, {"approval", "carol"}, {"approval", "dave"}} {
		in.Bundle.Decisions = append(in.Bundle.Decisions, signAs(t, approvalKey, in.Digest,
			attest.PredicateDecision, decisionOf(in, d.gate, d.who)))
	}
	return in
}

// decisionOf is who's approval of gate, as the approval role signs it.
func decisionOf(in api.DeployInput, gate, who string) attest.Decision {
	return attest.Decision{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
		Scope:     attest.Scope{Service: in.Service, Environment: in.Environment, RunID: testRunID},
		RequestID: who + "/" + in.ReleaseID + "-" + gate, Gate: gate, Verdict: "approve", Identity: who,
		Channel: "api", Evidence: attest.Evidence{Kind: "token", TokenFingerprint: "0123456789abcdef"},
		At: time.Now().UTC().Add(-2 * time.Hour)}
}

func (f *deployFixture) step(t *testing.T, fn func(*DeployActivities) any, in api.DeployInput) api.StepResult {
	t.Helper()
	res, err := execute[api.StepResult](t, f.d, fn(f.d), in)
	require.NoError(t, err)
	return res
}

func deployFn(d *DeployActivities) any   { return d.Deploy }
func verifyFn(d *DeployActivities) any   { return d.Verify }
func rollbackFn(d *DeployActivities) any { return d.Rollback }

func (f *deployFixture) current(t *testing.T) *deployState {
	st, err := readState(filepath.Join(f.state, "prod", "web.json"))
	require.NoError(t, err)
	return st
}

func TestDeployThenVerify(t *testing.T) {
	f := newDeployFixture(t)
	in := f.input(t, "rel-1", commitA)
	res := f.step(t, deployFn, in)
	assert.True(t, res.OK)
	assert.Equal(t, "foureyes-deploy@test", res.Executor)

	data, err := os.ReadFile(filepath.Join(f.state, "prod", "web.json"))
	require.NoError(t, err)
	var st map[string]any
	require.NoError(t, json.Unmarshal(data, &st))
	assert.Equal(t, "rel-1", st["release_id"])
	assert.Equal(t, commitA, st["commit"])
	assert.Equal(t, in.Digest, st["digest"])
	assert.Equal(t, f.d.artifactCopy(in), st["artifact_ref"], "the deploy role's own copy was deployed")
	assert.NotEqual(t, in.ArtifactRef, st["artifact_ref"])
	assert.Equal(t, "foureyes-deploy@test", st["deployed_by"])

	assert.True(t, f.step(t, verifyFn, in).OK)
}

func TestDeployIsIdempotent(t *testing.T) {
	f := newDeployFixture(t)
	in := f.input(t, "rel-1", commitA)
	f.step(t, deployFn, in)
	again := f.step(t, deployFn, in)
	assert.True(t, again.OK)
	assert.Contains(t, again.Output, "already deployed")
	assert.NoFileExists(t, filepath.Join(f.state, "prod", "web.json.prev"), "a release is never its own previous")
}

func TestDeployRefusesTamperedArtifact(t *testing.T) {
	f := newDeployFixture(t)
	in := f.input(t, "rel-1", commitA)
	writeFile(t, in.ArtifactRef, "not what was approved")
	_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
	appErr := requireAppError(t, err, ErrTypeDigestMismatch, true)
	assert.Contains(t, appErr.Error(), "refusing to deploy")
	assert.Nil(t, f.current(t))
}

func TestDeployRefusesArtifactOutsideDirAndBadInput(t *testing.T) {
	f := newDeployFixture(t)
	in := f.input(t, "rel-1", commitA)
	outside := in
	outside.ArtifactRef = "../../etc/passwd"
	_, err := execute[api.StepResult](t, f.d, f.d.Deploy, outside)
	requireAppError(t, err, ErrTypeArtifactMissing, true)

	bad := in
	bad.Environment = "../prod"
	_, err = execute[api.StepResult](t, f.d, f.d.Deploy, bad)
	requireAppError(t, err, ErrTypeInvalidInput, true)
	assert.Nil(t, f.current(t))
}

func TestVerifyFailsWhenStateDoesNotHold(t *testing.T) {
	f := newDeployFixture(t)
	in := f.input(t, "rel-1", commitA)
	assert.Contains(t, f.step(t, verifyFn, in).Output, "no deploy record")

	f.step(t, deployFn, in)
	writeFile(t, in.ArtifactRef, "swapped after deploy")
	assert.True(t, f.step(t, verifyFn, in).OK, "the shared artifact folder is not what was deployed")
	copied := f.d.artifactCopy(in)
	require.NoError(t, os.Chmod(copied, 0o644))
	writeFile(t, copied, "the deploy role's copy swapped after deploy")
	res := f.step(t, verifyFn, in)
	assert.False(t, res.OK)
	assert.Contains(t, res.Output, "now hashes to")

	other := in
	other.ReleaseID = "rel-2"
	assert.Contains(t, f.step(t, verifyFn, other).Output, "deployed release is rel-1")
}

func TestRollbackRestoresPrevious(t *testing.T) {
	f := newDeployFixture(t)
	first, second := f.input(t, "rel-1", commitA), f.input(t, "rel-2", commitB)
	f.step(t, deployFn, first)
	f.step(t, deployFn, second)
	require.Equal(t, "rel-2", f.current(t).ReleaseID)

	res := f.step(t, rollbackFn, verifyFailed(t, second))
	assert.True(t, res.OK)
	assert.Contains(t, res.Output, "restored release rel-1")
	assert.Equal(t, "rel-1", f.current(t).ReleaseID)
	assert.True(t, f.step(t, verifyFn, first).OK)

	again := f.step(t, rollbackFn, verifyFailed(t, second))
	assert.True(t, again.OK)
	assert.Contains(t, again.Output, "nothing to restore")
	assert.Equal(t, "rel-1", f.current(t).ReleaseID)
}

// A first release rolled back leaves nothing deployed, and its record is
// set aside, not deleted.
func TestRollbackWithoutPreviousSetsStateAside(t *testing.T) {
	f := newDeployFixture(t)
	in := f.input(t, "rel-1", commitA)
	f.step(t, deployFn, in)
	assert.Contains(t, f.step(t, rollbackFn, verifyFailed(t, in)).Output, "aside as .rolled-back")
	assert.Nil(t, f.current(t))
	kept, err := readState(filepath.Join(f.state, "prod", "web.json.rolled-back"))
	require.NoError(t, err)
	assert.Equal(t, "rel-1", kept.ReleaseID)
}

func TestRollbackLeavesOtherReleaseAlone(t *testing.T) {
	f := newDeployFixture(t)
	first, second := f.input(t, "rel-1", commitA), f.input(t, "rel-2", commitB)
	f.step(t, deployFn, first)
	f.step(t, deployFn, second)
	assert.Contains(t, f.step(t, rollbackFn, verifyFailed(t, first)).Output, "nothing to restore")
	assert.Equal(t, "rel-2", f.current(t).ReleaseID)
}

func TestDeployCommands(t *testing.T) {
	t.Setenv("FOUREYES_BUILD_REGISTRY_TOKEN", "foreign-secret")
	f := newDeployFixture(t)
	log := filepath.Join(t.TempDir(), "log")
	f.d.Credentials = "deploy-creds"
	f.d.Command = `echo "deploy $FOUREYES_RELEASE_ID $FOUREYES_ARTIFACT_DIGEST $FOUREYES_DEPLOY_CREDENTIALS $FOUREYES_STATE_DIR [$FOUREYES_BUILD_REGISTRY_TOKEN]" >> ` + log
	f.d.VerifyCommand = `echo "verify $FOUREYES_RELEASE_ID" >> ` + log
	f.d.RollbackCommand = `echo "rollback $FOUREYES_RELEASE_ID to $FOUREYES_PREVIOUS_RELEASE_ID" >> ` + log
	first, second := f.input(t, "rel-1", commitA), f.input(t, "rel-2", commitB)
	f.step(t, deployFn, first)
	f.step(t, deployFn, second)
	f.step(t, deployFn, second) // idempotent: command not run again
	f.step(t, verifyFn, second)
	f.step(t, rollbackFn, verifyFailed(t, second))

	data, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"deploy rel-1 " + first.Digest + " deploy-creds " + f.state + " []",
		"deploy rel-2 " + second.Digest + " deploy-creds " + f.state + " []",
		"verify rel-2",
		"rollback rel-2 to rel-1",
	}, strings.Split(strings.TrimSpace(string(data)), "\n"))
}

func TestFailingDeployCommands(t *testing.T) {
	f := newDeployFixture(t)
	in := f.input(t, "rel-1", commitA)
	f.d.Command = `echo "cluster unreachable"; exit 1`
	_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
	appErr := requireAppError(t, err, ErrTypeCommandFailed, true)
	assert.Contains(t, appErr.Error(), "cluster unreachable")
	assert.Nil(t, f.current(t), "a failed deploy records nothing")

	// The failure of a release's deploy is final: a retry reports it again.
	f.d.Command = "true"
	_, err = execute[api.StepResult](t, f.d, f.d.Deploy, in)
	assert.Contains(t, requireAppError(t, err, ErrTypeCommandFailed, true).Error(), "cluster unreachable")

	in = f.input(t, "rel-2", commitA)
	f.d.VerifyCommand = `echo "health check 503"; exit 2`
	f.step(t, deployFn, in)
	res := f.step(t, verifyFn, in)
	assert.False(t, res.OK)
	assert.Contains(t, res.Output, "health check 503")

	f.d.RollbackCommand = "exit 1"
	_, err = execute[api.StepResult](t, f.d, f.d.Rollback, verifyFailed(t, in))
	requireAppError(t, err, ErrTypeCommandFailed, false) // worth retrying
	assert.Equal(t, "rel-2", f.current(t).ReleaseID, "record kept until the rollback command succeeds")
}

// verifyFailed gives in the deploy role's signed receipt that in's verify
// failed: what a rollback needs.
func verifyFailed(t *testing.T, in api.DeployInput) api.DeployInput {
	t.Helper()
	r := attest.Receipt{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash}, Step: attest.StepVerify,
		Service: in.Service, Environment: in.Environment, Commit: in.Commit, OK: false, Output: "verify failed",
		Deployer: "foureyes-deploy@test", At: time.Now().UTC(), RunID: testRunID}
	in.FailedVerify = signAs(t, deployKey, in.Digest, attest.PredicateDeploy, r)
	return in
}
