package activities

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/testkeys"
	"github.com/foureyes/foureyes/judge"
)

// provenanceOf is the provenance the build role signs for in, before edits.
func provenanceOf(in api.DeployInput) attest.Provenance {
	return provenance(api.BuildInput{ReleaseID: in.ReleaseID, Service: in.Service, Environment: in.Environment,
		Commit: in.Commit, PolicyHash: in.PolicyHash, Authors: []string{testAuthor}, Requester: testRequester},
		buildRecord{Result: api.BuildResult{ArtifactRef: in.ArtifactRef, Digest: in.Digest, Executor: testBuilder}}, time.Now(), time.Now())
}

func reviewOf(in api.DeployInput) attest.Review {
	return attest.Review{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
		Commit: in.Commit, Passed: true, Findings: []string{}, Reviewer: testReviewer, At: time.Now()}
}

// withProvenance re-signs the bundle's provenance as s, edited.
func withProvenance(t *testing.T, in *api.DeployInput, s *attest.Signer, edit func(*attest.Provenance)) {
	p := provenanceOf(*in)
	edit(&p)
	in.Bundle.Provenance = signAs(t, s, in.Digest, attest.PredicateProvenance, p)
}

func withReview(t *testing.T, in *api.DeployInput, s *attest.Signer, edit func(*attest.Review)) {
	r := reviewOf(*in)
	edit(&r)
	in.Bundle.Review = signAs(t, s, in.Digest, attest.PredicateReview, r)
}

// decided replaces the bundle's decisions with approvals "gate:who", each
// edited by edit (when given) and signed by s about digest.
func decided(t *testing.T, in *api.DeployInput, s *attest.Signer, digest string, edit func(*attest.Decision), who ...string) {
	in.Bundle.Decisions = nil
	for _, gw := range who {
		gate, id, _ := strings.Cut(gw, ":")
		d := decisionOf(*in, gate, id)
		if edit != nil {
			edit(&d)
		}
		in.Bundle.Decisions = append(in.Bundle.Decisions, signAs(t, s, digest, attest.PredicateDecision, d))
	}
}

// approvals is the decisions of a release approved by bob, carol and dave.
var approvals = []string{"review:bob", "approval:carol", "approval:dave"}

// refusal is one way a bundle falls short.
type refusal struct {
	edit func(t *testing.T, f *deployFixture, in *api.DeployInput)
	want string
}

func refusals() map[string]refusal {
	other := strings.Repeat("e", 64)
	noEdit := func(*attest.Decision) {}
	return map[string]refusal{
		"a history without Build and Review results": {func(_ *testing.T, _ *deployFixture, in *api.DeployInput) { in.Bundle = nil },
			"build provenance: unsigned"},
		"unsigned provenance": {func(_ *testing.T, _ *deployFixture, in *api.DeployInput) { in.Bundle.Provenance = nil },
			"build provenance: unsigned"},
		"provenance signed with the review role's key": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			withProvenance(t, in, reviewKey, func(*attest.Provenance) {})
		}, "build provenance: signed with the review role's key, not the build role's"},
		"provenance signed with an outsider's key": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			withProvenance(t, in, testkeys.Signer(testkeys.Outsider), func(*attest.Provenance) {})
		}, "build provenance: bad signature"},
		"provenance of another digest": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			in.Bundle.Provenance = signAs(t, buildKey, other, attest.PredicateProvenance, provenanceOf(*in))
		}, "build provenance: about artifact sha256:" + other},
		"provenance of another release": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			withProvenance(t, in, buildKey, func(p *attest.Provenance) { p.BuildDefinition.ExternalParameters.Release = "rel-9" })
		}, `build provenance: bound to release "rel-9", not "rel-1"`},
		"provenance under another policy": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			withProvenance(t, in, buildKey, func(p *attest.Provenance) { p.BuildDefinition.ExternalParameters.PolicySHA256 = other })
		}, "build provenance: bound to policy sha256:" + other},
		"provenance of another environment": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			withProvenance(t, in, buildKey, func(p *attest.Provenance) { p.BuildDefinition.ExternalParameters.Environment = "staging" })
		}, "build provenance: built web for staging"},
		"a review that failed": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			withReview(t, in, reviewKey, func(r *attest.Review) { r.Passed, r.Findings = false, []string{"CVE-1"} })
		}, "review verdict: the automated review failed (1 findings)"},
		"no review": {func(_ *testing.T, _ *deployFixture, in *api.DeployInput) { in.Bundle.Review = nil },
			"review verdict: unsigned"},
		"review signed with the build role's key": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			withReview(t, in, buildKey, func(*attest.Review) {})
		}, "review verdict: signed with the build role's key"},
		"review of another release": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			withReview(t, in, reviewKey, func(r *attest.Review) { r.Release = "rel-9" })
		}, `review verdict: bound to release "rel-9"`},
		"decision signed with the build role's key": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, buildKey, in.Digest, nil, approvals...)
		}, "review gate: quorum not met: 0 approvals counted []; not counted: a decision (unverified: signed with the build role's key, not the approval role's)"},
		"decision signed with an outsider's key": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, testkeys.Signer(testkeys.Outsider), in.Digest, nil, approvals...)
		}, "not counted: a decision (unverified: bad signature"},
		"decision of another release": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, in.Digest, func(d *attest.Decision) { d.Release = "rel-9" }, approvals...)
		}, `not counted: bob (unverified: bound to release "rel-9"`},
		"decision under another policy": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, in.Digest, func(d *attest.Decision) { d.PolicySHA256 = other }, approvals...)
		}, "not counted: bob (unverified: bound to policy sha256:" + other},
		"decision about another digest": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, other, noEdit, approvals...)
		}, "not counted: a decision (unverified: about artifact sha256:" + other},
		"decision for no gate": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, in.Digest, nil, "review:bob", "deploy:carol", "approval:dave")
		}, `approval gate: quorum not met: 1 approvals counted [dave]`},
		"approval replayed at the review gate": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, in.Digest, nil, "review:carol", "approval:carol", "approval:dave")
		}, "review gate: quorum not met: 0 approvals counted []; not counted: carol (not in reviewers)"},
		"no review-gate decision": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, in.Digest, nil, "approval:carol", "approval:dave")
		}, "review gate: quorum not met: 0 approvals counted []"},
		"the author approves": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, in.Digest, nil, "review:bob", "approval:alice", "approval:dave")
		}, "approval gate: quorum not met: 1 approvals counted [dave]; not counted: alice (you authored this change)"},
		"the requester approves": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, in.Digest, nil, "review:bob", "approval:carol", "approval:rita")
		}, "not counted: rita (you requested this release)"},
		"the reviewer signs the approval gate": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, in.Digest, nil, "review:frank", "approval:frank", "approval:dave")
		}, "not counted: frank (you signed an earlier gate (review))"},
		"who ran the build approves": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			withProvenance(t, in, buildKey, func(p *attest.Provenance) { p.RunDetails.Builder.ID = "dave@laptop" })
		}, "not counted: dave (you ran a stage of this release (as dave@laptop))"},
		"a service identity approves": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, in.Digest, nil, "review:bob", "approval:carol", "approval:foureyes-deploy@ops")
		}, "not counted: foureyes-deploy@ops (service identity foureyes-deploy@ops may never sign)"},
		"a bot where bots do not count": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, in.Digest, nil, "review:bob", "approval:carol", "approval:ci-bot")
		}, "not counted: ci-bot (bots do not count at this gate)"},
		"the same approver twice": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			n := 0
			decided(t, in, approvalKey, in.Digest, func(d *attest.Decision) { n++; d.RequestID += fmt.Sprint(n) },
				"review:bob", "approval:carol", "approval:carol")
		}, "not counted: carol (you already signed this gate)"},
		"one request id twice": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, in.Digest, func(d *attest.Decision) { d.RequestID = "same" }, approvals...)
		}, `not counted: carol (request same was judged before)`},
		"quorum short": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, in.Digest, nil, "review:bob", "approval:carol")
		}, "approval gate: quorum not met: 1 approvals counted [carol]"},
		"a reject in the bundle": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			n := 0
			decided(t, in, approvalKey, in.Digest, func(d *attest.Decision) {
				if n++; n == 3 {
					d.Verdict, d.Comment = "reject", "not this week"
				}
			}, "review:bob", "approval:carol", "approval:dave", "approval:frank")
		}, `approval gate rejected by dave`},
		"the deploy role's policy is not the release's": {func(t *testing.T, f *deployFixture, _ *api.DeployInput) {
			data, err := os.ReadFile(f.d.PolicyFile)
			require.NoError(t, err)
			writeFile(t, f.d.PolicyFile, string(data)+"# changed after the release pinned it\n")
		}, "the release pinned policy sha256:"},
		"the deploy role has no policy": {func(_ *testing.T, f *deployFixture, _ *api.DeployInput) { f.d.PolicyFile = "" },
			"the deploy role has no policy of its own (FOUREYES_DEPLOY_POLICY_FILE)"},
		"a rogue workflow's made-up release": {func(_ *testing.T, _ *deployFixture, in *api.DeployInput) { in.ReleaseID = "rogue-1" },
			`build provenance: bound to release "rel-1", not "rogue-1"`},
		"a rogue workflow's made-up release, bound throughout": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			in.ReleaseID = "rogue-1"
			withProvenance(t, in, buildKey, func(*attest.Provenance) {})
			withReview(t, in, reviewKey, func(*attest.Review) {})
		}, `not counted: bob (unverified: bound to release "rel-1", not "rogue-1")`},
	}
}

// TestDeployRefusals: every way a bundle falls short is refused with the
// rule that failed, non-retryably, before anything runs or is recorded.
func TestDeployRefusals(t *testing.T) {
	for name, c := range refusals() {
		t.Run(name, func(t *testing.T) {
			f, counter := counted(t, "0")
			in := f.input(t, "rel-1", commitA)
			c.edit(t, f, &in)
			_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
			appErr := requireAppError(t, err, api.ErrTypeDeployRefused, true)
			assert.True(t, strings.HasPrefix(appErr.Error(), "deploy refused: "), appErr.Error())
			assert.Contains(t, appErr.Error(), c.want)
			assertNothingDeployed(t, f, counter, in)
		})
	}
}

func assertNothingDeployed(t *testing.T, f *deployFixture, counter string, in api.DeployInput) {
	t.Helper()
	assert.Empty(t, runs(t, counter), "no command ran")
	assert.Nil(t, f.current(t), "nothing recorded")
	assert.NoDirExists(t, f.d.step(in, "deploy").Dir, "not even a lock or a copy")
}

// The freeze window of the approval gate holds at the deploy role's own
// clock, however long ago the approvals were given.
func TestDeployRefusedInFreezeWindow(t *testing.T) {
	f, counter := counted(t, "0")
	frozen := newDeployFixtureWith(t, withKeys(fmt.Sprintf(testPolicyYAML, freezeNow())))
	f.d.PolicyFile, f.policyHash = frozen.d.PolicyFile, frozen.policyHash
	in := f.input(t, "rel-1", commitA)
	_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
	assert.Contains(t, requireAppError(t, err, api.ErrTypeDeployRefused, true).Error(), "deploy refused: freeze window: change freeze until ")
	assertNothingDeployed(t, f, counter, in)
}

// The happy path: the bundle of a release built, reviewed and approved as
// the policy asks deploys, and the deploy role's policy is read again for
// each deploy.
func TestDeployWithFullBundle(t *testing.T) {
	f, counter := counted(t, "0")
	in := f.input(t, "rel-1", commitA)
	res := f.step(t, deployFn, in)
	assert.True(t, res.OK)
	assert.Equal(t, []string{"rel-1"}, runs(t, counter))
	assert.Equal(t, "rel-1", f.current(t).ReleaseID)

	bots := f.input(t, "rel-2", commitB) // a bot counts at review, a bundle may carry more approvals than needed
	decided(t, &bots, approvalKey, bots.Digest, nil, "review:ci-bot", "approval:dave", "approval:carol", "approval:frank")
	assert.True(t, f.step(t, deployFn, bots).OK)
	assert.Equal(t, []string{"rel-1", "rel-2"}, runs(t, counter))
}

// The artifact folder is shared: whatever happens to the file there after
// the check, the command deploys the deploy role's own read-only copy,
// which hashes to the approved digest.
func TestDeployUsesItsOwnCopy(t *testing.T) {
	f := newDeployFixture(t)
	in := f.input(t, "rel-1", commitA)
	seen := filepath.Join(t.TempDir(), "seen")
	f.d.Command = fmt.Sprintf(`printf 'swapped' > %q; sha256sum "$FOUREYES_ARTIFACT_PATH" > %q; echo "$FOUREYES_ARTIFACT_PATH" >> %q`,
		in.ArtifactRef, seen, seen)
	require.True(t, f.step(t, deployFn, in).OK)

	data, err := os.ReadFile(seen)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 2)
	assert.True(t, strings.HasPrefix(lines[0], in.Digest+" "), "the deployed file hashes to the approved digest: %s", lines[0])
	assert.Equal(t, f.d.artifactCopy(in), lines[1])
	assert.NotEqual(t, in.ArtifactRef, lines[1])
	info, err := os.Stat(lines[1])
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o444), info.Mode().Perm(), "the copy is read-only")
	assert.True(t, f.step(t, verifyFn, in).OK, "verify checks the copy, not the swapped file")
}

// A file swapped before the copy is refused: the bytes copied are hashed,
// and no copy is left behind.
func TestDeployRefusesSwapBeforeCopy(t *testing.T) {
	f, counter := counted(t, "0")
	in := f.input(t, "rel-1", commitA)
	writeFile(t, in.ArtifactRef, "swapped after the review")
	_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
	assert.Contains(t, requireAppError(t, err, ErrTypeDigestMismatch, true).Error(), "refusing to deploy")
	assert.Empty(t, runs(t, counter))
	entries, err := os.ReadDir(f.d.step(in, "deploy").Dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), "artifact", "no copy of the wrong bytes")
	}
}

// A rollback for a release the deploy role never deployed runs nothing and
// changes no record, even when another release is deployed.
func TestRogueRollbackChangesNothing(t *testing.T) {
	f, counter := counted(t, "0")
	in := f.input(t, "rel-1", commitA)
	f.step(t, deployFn, in)
	rogue := in
	rogue.ReleaseID, rogue.Bundle = "rogue-1", nil
	res := f.step(t, rollbackFn, rogue)
	assert.Contains(t, res.Output, "never deployed release rogue-1")
	assert.Equal(t, []string{"rel-1"}, runs(t, counter), "no rollback command ran")
	assert.Equal(t, "rel-1", f.current(t).ReleaseID)
	assert.True(t, f.step(t, verifyFn, in).OK)
}

// memLogger keeps what the activity logs.
type memLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *memLogger) add(level, msg string, kv []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%s %s %v", level, msg, kv))
}
func (l *memLogger) Debug(msg string, kv ...any) { l.add("DEBUG", msg, kv) }
func (l *memLogger) Info(msg string, kv ...any)  { l.add("INFO", msg, kv) }
func (l *memLogger) Warn(msg string, kv ...any)  { l.add("WARN", msg, kv) }
func (l *memLogger) Error(msg string, kv ...any) { l.add("ERROR", msg, kv) }

func TestDeployRefusalIsLogged(t *testing.T) {
	f := newDeployFixture(t)
	in := f.input(t, "rel-1", commitA)
	in.Bundle = nil
	logger := &memLogger{}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(logger)
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(f.d)
	_, err := env.ExecuteActivity(f.d.Deploy, in)
	requireAppError(t, err, api.ErrTypeDeployRefused, true)
	assert.Contains(t, strings.Join(logger.lines, "\n"), "WARN deploy refused")
	assert.Contains(t, strings.Join(logger.lines, "\n"), "release_id rel-1")
}

// TestRollbackNeedsAReason (issue attack 3): twice an anonymous client
// scheduled Rollback of the deployed release: it restored the previous
// record, then deleted it. Now a rollback without the deploy role's own
// reason (a signed failed-verify receipt of that release and run, its own
// failed deploy, or a cancel the release took) is refused and nothing
// changes; a receipt of another release or run, or of a passed verify,
// is no reason.
func TestRollbackNeedsAReason(t *testing.T) {
	f, counter := counted(t, "0")
	first, second := f.input(t, "rel-1", commitA), f.input(t, "rel-2", commitB)
	f.step(t, deployFn, first)
	f.step(t, deployFn, second)
	cases := map[string]api.DeployInput{"no reason": second, "a receipt of another run": verifyFailed(t, second),
		"a receipt of another release": withFailedVerifyOf(t, second, first), "a passed verify": passedVerify(t, second)}
	for name, in := range cases {
		f.editCaller = nil
		if name == "a receipt of another run" { // the receipt names this run, the caller is another
			f.editCaller = func(c *Caller) { c.RunID = "another-run" }
		}
		_, err := execute[api.StepResult](t, f.d, f.d.Rollback, in)
		assert.Contains(t, requireAppError(t, err, api.ErrTypeDeployRefused, true).Error(), "rollback refused", name)
		assert.Equal(t, "rel-2", f.current(t).ReleaseID, name)
	}
	assert.Equal(t, []string{"rel-1", "rel-2"}, runs(t, counter), "no rollback command ran")
	f.editCaller = func(c *Caller) { c.ID = "rogue-1" }
	_, err := execute[api.StepResult](t, f.d, f.d.Rollback, verifyFailed(t, second))
	assert.Contains(t, requireAppError(t, err, api.ErrTypeDeployRefused, true).Error(), "a release deploys only itself")
	f.editCaller = nil
	assert.True(t, f.step(t, rollbackFn, verifyFailed(t, second)).OK, "its own failed verify is a reason")
	assert.Equal(t, "rel-1", f.current(t).ReleaseID)
}

func withFailedVerifyOf(t *testing.T, in, of api.DeployInput) api.DeployInput {
	in.FailedVerify = verifyFailed(t, of).FailedVerify
	return in
}

func passedVerify(t *testing.T, in api.DeployInput) api.DeployInput {
	r := attest.Receipt{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash}, Step: attest.StepVerify,
		Service: in.Service, Environment: in.Environment, Commit: in.Commit, OK: true, Deployer: "foureyes-deploy@test",
		At: time.Now().UTC(), RunID: testRunID}
	in.FailedVerify = signAs(t, deployKey, in.Digest, attest.PredicateDeploy, r)
	return in
}

// TestDeployOnlyForTheCallingRelease (issue attacks 1, 2 and 9): a deploy
// is judged against the run the server says called, not the input: a
// workflow of another id or type, a release started for another
// environment, decisions scoped to another run or environment (a staging
// release's approvals offered for prod), refused or cancelled requests in
// the release's own history — none deploys.
func TestDeployOnlyForTheCallingRelease(t *testing.T) {
	cases := map[string]struct {
		edit func(t *testing.T, f *deployFixture, in *api.DeployInput)
		want string
	}{
		"another workflow id": {func(_ *testing.T, f *deployFixture, _ *api.DeployInput) {
			f.editCaller = func(c *Caller) { c.ID = "rel-9" }
		}, "called by release rel-9, not rel-1"},
		"a workflow of another type": {func(_ *testing.T, f *deployFixture, _ *api.DeployInput) {
			f.editCaller = func(c *Caller) { c.Type = "Rogue" }
		}, `called by a "Rogue" workflow`},
		"a release started for staging": {func(_ *testing.T, f *deployFixture, _ *api.DeployInput) {
			f.editCaller = func(c *Caller) { c.Request.Environment = "staging" }
		}, "was started for web in staging, not web in prod"},
		"decisions of another run": {func(_ *testing.T, f *deployFixture, _ *api.DeployInput) {
			f.editCaller = func(c *Caller) { c.RunID = "run-2" }
		}, `not counted: bob (unverified: scoped to web in prod (run "default-test-run-id"), not web in prod (run "run-2"))`},
		"decisions scoped to staging": {func(t *testing.T, _ *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, in.Digest, func(d *attest.Decision) { d.Environment = "staging" }, approvals...)
		}, "not counted: bob (unverified: scoped to web in staging"},
		"a cancel the release took": {func(t *testing.T, f *deployFixture, in *api.DeployInput) {
			f.editCaller = func(c *Caller) { c.Requests = append(c.Requests, cancelRequest(t, *in, "rita")) }
		}, "the release was cancelled by rita"},
		"a rejection the release took after the approvals": {func(t *testing.T, f *deployFixture, in *api.DeployInput) {
			decided(t, in, approvalKey, in.Digest, func(d *attest.Decision) {
				if d.Identity == "dave" {
					d.Verdict, d.Comment = "reject", "no"
				}
			}, "review:bob", "approval:dave", "approval:carol", "approval:frank")
		}, "approval gate rejected by dave"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f, counter := counted(t, "0")
			in := f.input(t, "rel-1", commitA)
			c.edit(t, f, &in)
			_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
			assert.Contains(t, requireAppError(t, err, api.ErrTypeDeployRefused, true).Error(), c.want)
			assertNothingDeployed(t, f, counter, in)
		})
	}
}

// cancelRequest is who's cancel of in's release, as a cancel Update.
func cancelRequest(t *testing.T, in api.DeployInput, who string) judge.Request {
	c := attest.Cancel{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
		Scope:     attest.Scope{Service: in.Service, Environment: in.Environment, RunID: testRunID},
		RequestID: who + "/cancel", Identity: who, Channel: "api", Reason: "stop", At: time.Now().UTC()}
	env, err := approvalKey.Attest(attest.ReleaseSubject(in.ReleaseID), attest.PredicateCancel, c)
	require.NoError(t, err)
	return judge.Request{Kind: api.UpdateCancel, Envelope: env}
}

// TestTheDeployRoleFollowsTheJudge: a rule added to the one judge reaches
// the deploy role's verdict with no code of its own (the workflow's and the
// auditor's tests add the same rule).
func TestTheDeployRoleFollowsTheJudge(t *testing.T) {
	defer judge.AddRule(judge.NoDave)()
	f, counter := counted(t, "0")
	in := f.input(t, "rel-1", commitA)
	_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
	assert.Contains(t, requireAppError(t, err, api.ErrTypeDeployRefused, true).Error(), "not counted: dave (dave may not approve (added rule))")
	assertNothingDeployed(t, f, counter, in)
}

// TestVerifyOnlyForTheCallingRelease: a passed verify starts the soak time
// promotions count (markVerified), a failed one's receipt is a reason to
// roll back; a workflow that is not the release gets neither, and the
// record is left as it was. Without the caller check both calls are
// answered and the first marks the release verified.
func TestVerifyOnlyForTheCallingRelease(t *testing.T) {
	f := newDeployFixture(t)
	in := f.input(t, "rel-1", commitA)
	f.step(t, deployFn, in)
	for name, edit := range map[string]func(*Caller){
		"another release":            func(c *Caller) { c.ID = "rel-9" },
		"a workflow of another type": func(c *Caller) { c.Type = "Rogue" },
	} {
		f.editCaller = edit
		res, err := execute[api.StepResult](t, f.d, f.d.Verify, in)
		assert.Contains(t, requireAppError(t, err, api.ErrTypeDeployRefused, true).Error(), "verify refused", name)
		assert.Empty(t, res.Receipt, name)
		assert.True(t, f.current(t).VerifiedAt.IsZero(), "%s: the release was marked verified", name)
	}
	f.editCaller = nil
	assert.True(t, f.step(t, verifyFn, in).OK)
	assert.False(t, f.current(t).VerifiedAt.IsZero())
}
