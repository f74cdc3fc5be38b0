package activities

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/gitrepo"
	"github.com/foureyes/foureyes/internal/testkeys"
)

// People of the git tests: the policy knows alice, bob, carol, dave, frank
// and rita by their @example.com addresses; zed is nobody it knows.
var (
	alice = gitrepo.Person{Name: "Alice", Email: "alice@example.com"}
	bob   = gitrepo.Person{Name: "Bob", Email: "bob@example.com"}
	frank = gitrepo.Person{Name: "Frank", Email: "Frank@Example.com"}
)

// gitFixture: service payments lives in a real repository made by the
// test; the build role builds it from git, the deploy role deploys it.
type gitFixture struct {
	repo       *gitrepo.Repo
	policyPath string
	policyHash string
	b          *BuildActivities
	d          *DeployActivities
}

// newGitFixture writes the policy (services: payments at the repository;
// extra is inserted into prod's settings) and gives it to both roles.
func newGitFixture(t *testing.T, build, extra string) *gitFixture {
	t.Helper()
	return newGitFixtureOf(t, fmt.Sprintf(testPolicyYAML, ""), build, extra)
}

// newGitFixtureOf is newGitFixture with policy text base.
func newGitFixtureOf(t *testing.T, base, build, extra string) *gitFixture {
	t.Helper()
	if err := gitrepo.Available(); err != nil {
		t.Fatal(err)
	}
	repo, err := gitrepo.Init(filepath.Join(t.TempDir(), "payments"), "main")
	require.NoError(t, err)
	services := fmt.Sprintf("services:\n  payments:\n    repository: %q\n", repo.Dir)
	if build != "" {
		services += fmt.Sprintf("    build: %q\n", build)
	}
	content := strings.Replace(base, "environments:\n", services+"environments:\n", 1)
	content = strings.Replace(content, "    services_without_repository: allow\n", extra, 1)
	path, hash := writePolicy(t, withKeys(content))
	artifacts := t.TempDir()
	return &gitFixture{repo: repo, policyPath: path, policyHash: hash,
		b: &BuildActivities{Identity: testBuilder, ArtifactDir: artifacts, StateDir: t.TempDir(),
			PolicyFile: path, Signer: buildKey},
		d: &DeployActivities{Identity: "foureyes-deploy@test", ArtifactDir: artifacts, StateDir: t.TempDir(),
			PolicyFile: path, Signer: deployKey, Caller: func(ctx context.Context) (Caller, error) { return testCaller(ctx, nil) }}}
}

func (f *gitFixture) commit(t *testing.T, author gitrepo.Person, message string) string {
	t.Helper()
	n, _ := f.repo.Git(nil, "rev-list", "--count", "--all")
	sha, err := f.repo.Commit(gitrepo.Commit{Author: author, Message: message,
		Files: map[string]string{"main.go": "package main // " + message + " " + n + "\n"}})
	require.NoError(t, err)
	return sha
}

// deployed is the deploy role's signed statement for release id.
func (f *gitFixture) deployed(t *testing.T, id string) attest.Envelope {
	t.Helper()
	res, err := execute[api.DeployedResult](t, f.d, f.d.Deployed, api.DeployedInput{ReleaseID: id, Service: "payments",
		Environment: "prod", PolicyHash: f.policyHash})
	require.NoError(t, err)
	return res.Statement
}

func (f *gitFixture) input(t *testing.T, id, rev string, authors ...string) api.BuildInput {
	return api.BuildInput{ReleaseID: id, Service: "payments", Environment: "prod", Commit: rev, PolicyHash: f.policyHash,
		Authors: authors, Requester: testRequester, Git: true, Deployed: f.deployed(t, id)}
}

// build builds rev for release id, as the workflow asks.
func (f *gitFixture) build(t *testing.T, id, rev string, authors ...string) (api.BuildResult, attest.BuildParameters) {
	t.Helper()
	res, err := execute[api.BuildResult](t, f.b, f.b.Build, f.input(t, id, rev, authors...))
	require.NoError(t, err)
	var p attest.Provenance
	verified(t, res.Provenance, attest.RoleBuild, attest.PredicateProvenance, res.Digest, &p)
	return res, p.BuildDefinition.ExternalParameters
}

// buildErr is the error of building rev.
func (f *gitFixture) buildErr(t *testing.T, in api.BuildInput) error {
	t.Helper()
	_, err := execute[api.BuildResult](t, f.b, f.b.Build, in)
	require.Error(t, err)
	return err
}

// deployInput is the deploy of a build, reviewed, with the decisions "gate:who".
func (f *gitFixture) deployInput(t *testing.T, id string, built api.BuildResult, who ...string) api.DeployInput {
	t.Helper()
	r := &ReviewActivities{Identity: testReviewer, ArtifactDir: f.b.ArtifactDir, Signer: reviewKey}
	reviewed := review(t, r, api.ReviewInput{ReleaseID: id, Service: "payments", Commit: built.Commit,
		ArtifactRef: built.ArtifactRef, Digest: built.Digest, PolicyHash: f.policyHash})
	in := api.DeployInput{ReleaseID: id, Service: "payments", Environment: "prod", Commit: built.Commit,
		ArtifactRef: built.ArtifactRef, Digest: built.Digest, PolicyHash: f.policyHash,
		Bundle: &api.Bundle{Provenance: built.Provenance, Review: reviewed.Attestation}}
	if len(who) == 0 {
		who = approvals
	}
	decided(t, &in, approvalKey, in.Digest, nil, who...)
	return in
}

func (f *gitFixture) deploy(t *testing.T, in api.DeployInput) error {
	t.Helper()
	_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
	return err
}

func shas(c *attest.Change) []string {
	var out []string
	for _, k := range c.Commits {
		out = append(out, k.SHA)
	}
	return out
}

// TestChangeRanges: the change is the commit alone on a first release (and
// on a redeploy), then the commits since the last deployed one, merged
// branches included; its authors are every author, committer and
// co-author, attested and mapped to identities.
func TestChangeRanges(t *testing.T) {
	f := newGitFixture(t, "", "")
	c1 := f.commit(t, frank, "first")
	c2 := f.commit(t, alice, "second\n\nCo-authored-by: Frank <frank@example.com>\n")

	_, p := f.build(t, "rel-1", c2, "rita")
	ch := p.Change
	require.NotNil(t, ch)
	assert.Equal(t, "", ch.Base, "nothing deployed: a first release")
	assert.Equal(t, []string{c2, c1}, shas(ch), "a first release hides no one: the whole history (frank's first commit too)")
	assert.Equal(t, 2, ch.CommitCount)
	assert.Equal(t, "second", ch.Commits[0].Subject)
	assert.Equal(t, []string{"frank@example.com"}, ch.Commits[0].CoAuthors)
	assert.Equal(t, []string{"alice@example.com", "frank@example.com"}, ch.Emails)
	assert.Equal(t, []string{"alice", "frank"}, ch.Identities)
	assert.Empty(t, ch.Unmapped)
	assert.Equal(t, c2, p.Commit)
	assert.Equal(t, []string{"rita"}, p.Authors, "declared authors are attested as declared")

	built, _ := f.build(t, "rel-2", c1)
	require.NoError(t, f.deploy(t, f.deployInput(t, "rel-2", built)))

	// Later: a branch by bob, committed by frank, merged by carol.
	c3 := f.commit(t, alice, "third")
	require.NoError(t, f.repo.Checkout("topic", c3))
	c4, err := f.repo.Commit(gitrepo.Commit{Author: bob, Committer: frank, Message: "topic work",
		Files: map[string]string{"topic.go": "package main\n"}})
	require.NoError(t, err)
	require.NoError(t, f.repo.Checkout("main", ""))
	c5 := f.commit(t, alice, "fourth")
	carol := gitrepo.Person{Name: "Carol", Email: "carol@example.com"}
	merge, err := f.repo.Merge("topic", gitrepo.Commit{Author: carol, Message: "Merge topic"})
	require.NoError(t, err)

	_, p = f.build(t, "rel-3", "main")
	ch = p.Change
	assert.Equal(t, c1, ch.Base, "the change starts after the deployed commit")
	assert.Equal(t, "rel-2", ch.BaseRelease)
	assert.True(t, ch.BaseIsAncestor)
	assert.ElementsMatch(t, []string{merge, c5, c4, c3, c2}, shas(ch), "every commit since, the merge and the merged branch too")
	assert.Equal(t, merge, ch.Commits[0].SHA, "newest first")
	assert.Equal(t, []string{"alice", "bob", "carol", "frank"}, ch.Identities)
	assert.Equal(t, merge, p.Commit, "main resolved once to its full SHA")
	assert.Equal(t, "main", p.Ref)

	_, p = f.build(t, "rel-4", c1)
	assert.Equal(t, []string{c1}, shas(p.Change), "a redeploy of the deployed commit: the commit alone")
	assert.True(t, p.Change.BaseIsAncestor)
}

// TestForcePushedHistory: the deployed commit is no longer an ancestor of
// the release's (history rewritten). The change is every commit since their
// merge base, flagged: a superset, so nobody who wrote what is new slips
// out. A build role that never saw the deployed commit, whose repository no
// longer has it, stops: the change cannot be known.
func TestForcePushedHistory(t *testing.T) {
	f := newGitFixture(t, "", "")
	c1 := f.commit(t, frank, "base")
	c2 := f.commit(t, frank, "will be rewritten")
	built, _ := f.build(t, "rel-1", c2)
	require.NoError(t, f.deploy(t, f.deployInput(t, "rel-1", built)))

	require.NoError(t, f.repo.Reset(c1)) // force push: c2 is gone from main
	c3 := f.commit(t, alice, "rewritten")
	_, p := f.build(t, "rel-2", "main")
	assert.Equal(t, c2, p.Change.Base)
	assert.False(t, p.Change.BaseIsAncestor, "flagged")
	assert.Equal(t, []string{c3}, shas(p.Change), "commits since the merge base (c1) that the deployed commit lacks")

	// A build role with a fresh mirror, and a repository that lost c2.
	_, err := f.repo.Git(nil, "reflog", "expire", "--expire=now", "--all")
	require.NoError(t, err)
	_, err = f.repo.Git(nil, "gc", "-q", "--prune=now")
	require.NoError(t, err)
	f.b.StateDir = t.TempDir()
	err = f.buildErr(t, f.input(t, "rel-3", "main"))
	appErr := requireAppError(t, err, ErrTypeSourceFailed, true)
	assert.Contains(t, appErr.Error(), "the last deployed commit "+c2+" (release rel-1) is not in")
	assert.Contains(t, appErr.Error(), "fail closed")
}

// TestResolveRevisions: a full SHA, a short one, a branch, a lightweight
// and an annotated tag all resolve to the full SHA, pinned in the
// provenance; ambiguous and unknown names fail with git's account.
func TestResolveRevisions(t *testing.T) {
	f := newGitFixture(t, "", "")
	c1 := f.commit(t, alice, "one")
	c2 := f.commit(t, alice, "two")
	require.NoError(t, f.repo.Tag("v1.0", c1, "", alice))
	require.NoError(t, f.repo.Tag("v2.0", c2, "release 2.0", alice))
	require.NoError(t, f.repo.Checkout("release", c1))
	require.NoError(t, f.repo.Checkout("main", ""))
	require.NoError(t, f.repo.Tag("release", c2, "", alice)) // both a branch and a tag

	for i, tc := range []struct{ rev, want string }{
		{c1, c1}, {c2[:7], c2}, {c2[:12], c2}, {"main", c2}, {"v1.0", c1}, {"v2.0", c2},
		{"refs/heads/release", c1}, {"refs/tags/release", c2},
	} {
		res, p := f.build(t, fmt.Sprintf("rel-%d", i), tc.rev)
		assert.Equal(t, tc.want, p.Commit, tc.rev)
		assert.Equal(t, tc.want, res.Commit, tc.rev)
		assert.Equal(t, tc.rev, p.Ref)
		assert.Equal(t, "git+"+f.repo.Dir, "git+"+p.Repository)
	}

	for rev, want := range map[string]string{
		"release":               `"release" is ambiguous in`,
		"nope":                  `unknown commit "nope":`,
		"abcdef1":               `unknown commit "abcdef1": no commit of`,
		strings.Repeat("d", 40): "commit " + strings.Repeat("d", 40) + " is not in " + f.repo.Dir,
	} {
		err := f.buildErr(t, f.input(t, "rel-x", rev))
		appErr := requireAppError(t, err, ErrTypeSourceFailed, true)
		assert.Contains(t, appErr.Error(), want, rev)
	}
	err := f.buildErr(t, f.input(t, "rel-x", "main..v1.0"))
	requireAppError(t, err, ErrTypeInvalidInput, true)
}

// TestUnmappedEmails: an email that maps to no identity is attested as
// such; the deploy role refuses its approvals (fail closed) naming it,
// unless the environment allows unmapped emails.
func TestUnmappedEmails(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprint("allow=", allow), func(t *testing.T) {
			extra := ""
			if allow {
				extra = "    unmapped_emails: allow\n"
			}
			f := newGitFixture(t, "", extra)
			sha := f.commit(t, alice, "with help\n\nCo-authored-by: Zed <zed@elsewhere.org>\nCo-authored-by: someone\n")
			built, p := f.build(t, "rel-1", sha)
			assert.Equal(t, []string{"alice"}, p.Change.Identities)
			assert.Equal(t, []string{"someone", "zed@elsewhere.org"}, p.Change.Unmapped)
			err := f.deploy(t, f.deployInput(t, "rel-1", built))
			if allow {
				require.NoError(t, err)
				return
			}
			appErr := requireAppError(t, err, api.ErrTypeDeployRefused, true)
			assert.Contains(t, appErr.Error(), `not counted: bob (the change has commits by "someone", "zed@elsewhere.org", which map to no identity`)
		})
	}
}

// TestRequesterOmitsTheAuthor: declared "bob" for alice's commit. The
// provenance attests alice from git, and her approval is refused by the
// deploy role as the author's; bob (declared) is refused too.
func TestRequesterOmitsTheAuthor(t *testing.T) {
	f := newGitFixture(t, "", "")
	sha := f.commit(t, alice, "alice's change")
	built, p := f.build(t, "rel-1", sha[:10], "bob")
	assert.Equal(t, []string{"bob"}, p.Authors)
	assert.Equal(t, []string{"alice"}, p.Change.Identities)

	err := f.deploy(t, f.deployInput(t, "rel-1", built, "review:frank", "approval:alice", "approval:dave"))
	appErr := requireAppError(t, err, api.ErrTypeDeployRefused, true)
	assert.Contains(t, appErr.Error(), "approval gate: quorum not met: 1 approvals counted [dave]; not counted: alice (you authored this change)")

	err = f.deploy(t, f.deployInput(t, "rel-1", built, "review:bob", "approval:carol", "approval:dave"))
	appErr = requireAppError(t, err, api.ErrTypeDeployRefused, true)
	assert.Contains(t, appErr.Error(), "review gate: quorum not met: 0 approvals counted []; not counted: bob (you authored this change)")

	require.NoError(t, f.deploy(t, f.deployInput(t, "rel-1", built, "review:frank", "approval:carol", "approval:dave")))
}

// TestDeployChecksTheChangeAgainstWhatIsDeployed: a commit deployed since
// the build that is not part of the change refuses the deploy (its authors
// are unknown); one that is part of it does not.
func TestDeployChecksTheChangeAgainstWhatIsDeployed(t *testing.T) {
	f := newGitFixture(t, "", "")
	c1 := f.commit(t, frank, "one")
	require.NoError(t, f.repo.Checkout("topic", c1))
	side := f.commit(t, frank, "side")
	require.NoError(t, f.repo.Checkout("main", ""))
	c3 := f.commit(t, frank, "three")
	later, _ := f.build(t, "rel-later", c3) // change: c3 and c1 (nothing deployed: the whole history)
	built, _ := f.build(t, "rel-1", side)
	require.NoError(t, f.deploy(t, f.deployInput(t, "rel-1", built)))

	err := f.deploy(t, f.deployInput(t, "rel-later", later))
	appErr := requireAppError(t, err, api.ErrTypeDeployRefused, true)
	assert.Contains(t, appErr.Error(), "the change was read from nothing deployed, but "+side+" is deployed to prod/payments now (release rel-1)")

	again, p := f.build(t, "rel-2", c3)
	assert.Equal(t, side, p.Change.Base)
	require.NoError(t, f.deploy(t, f.deployInput(t, "rel-2", again)))
}

// TestDeployRefusesSourceMismatches: provenance from another repository,
// without a change, or without a repository for a service that has one.
func TestDeployRefusesSourceMismatches(t *testing.T) {
	f := newGitFixture(t, "", "")
	sha := f.commit(t, bob, "one")
	built, _ := f.build(t, "rel-1", sha)
	for name, c := range map[string]struct {
		edit func(*attest.BuildParameters)
		want string
	}{
		"another repository": {func(p *attest.BuildParameters) { p.Repository = "https://evil.example/p.git" },
			`built from "https://evil.example/p.git", but the policy's repository of payments is`},
		"no change": {func(p *attest.BuildParameters) { p.Change = nil }, "no change read from git for payments"},
		"no repository": {func(p *attest.BuildParameters) { p.Repository, p.Change = "", nil },
			`built from "", but the policy's repository of payments is`},
	} {
		t.Run(name, func(t *testing.T) {
			in := f.deployInput(t, "rel-1", built)
			var p attest.Provenance
			verified(t, in.Bundle.Provenance, attest.RoleBuild, attest.PredicateProvenance, in.Digest, &p)
			c.edit(&p.BuildDefinition.ExternalParameters)
			in.Bundle.Provenance = signAs(t, buildKey, in.Digest, attest.PredicateProvenance, p)
			appErr := requireAppError(t, f.deploy(t, in), api.ErrTypeDeployRefused, true)
			assert.Contains(t, appErr.Error(), c.want)
		})
	}
}

// TestBuildInCleanWorktree: the policy's build command runs in a checkout
// of the commit with only its own environment; the worktree is removed
// afterwards, also when the command fails.
func TestBuildInCleanWorktree(t *testing.T) {
	t.Setenv("FOUREYES_DEPLOY_CREDENTIALS", "foreign-secret")
	f := newGitFixture(t, `test ! -e untracked && cat main.go > "$FOUREYES_ARTIFACT_PATH" && env | sort >> "$FOUREYES_ARTIFACT_PATH" && pwd`, "")
	sha := f.commit(t, alice, "hello")
	res, p := f.build(t, "rel-1", "main")
	data, err := os.ReadFile(res.ArtifactRef)
	require.NoError(t, err)
	assert.Contains(t, string(data), "package main // hello")
	assert.Contains(t, string(data), "FOUREYES_COMMIT="+sha)
	assert.Contains(t, string(data), "FOUREYES_REF=main")
	assert.NotContains(t, string(data), "foreign-secret")
	assert.Contains(t, res.Output, filepath.Join(f.b.StateDir, "worktrees", "rel-1"), "ran in the worktree")
	assert.Equal(t, f.b.Command, "")
	assert.Contains(t, p.BuildCommand, "cat main.go")
	assert.Empty(t, names(t, filepath.Join(f.b.StateDir, "worktrees")), "worktree removed")
	wts, err := (&gitrepo.Repo{Dir: mirrorDir(f.b.StateDir, f.repo.Dir)}).Git(nil, "worktree", "list")
	require.NoError(t, err)
	assert.Equal(t, 1, len(strings.Split(wts, "\n")), "git forgot it too: %s", wts)

	writeFile(t, filepath.Join(f.repo.Dir, "untracked"), "not committed")
	require.NoError(t, os.WriteFile(filepath.Join(f.repo.Dir, "main.go"), []byte("dirty"), 0o644))
	res2, _ := f.build(t, "rel-2", "main")
	data2, err := os.ReadFile(res2.ArtifactRef)
	require.NoError(t, err)
	assert.Contains(t, string(data2), "package main // hello", "the commit, not the repository's dirty files")
}

func TestBuildCommandFailsInWorktree(t *testing.T) {
	f := newGitFixture(t, `echo compiling; echo "undefined: x" >&2; exit 2`, "")
	f.commit(t, alice, "broken")
	err := f.buildErr(t, f.input(t, "rel-1", "main"))
	appErr := requireAppError(t, err, ErrTypeCommandFailed, true)
	assert.Contains(t, appErr.Error(), "undefined: x")
	assert.Empty(t, names(t, filepath.Join(f.b.StateDir, "worktrees")), "worktree removed after a failure")
	artifacts, inProgress := stored(t, f.b.ArtifactDir)
	assert.Empty(t, artifacts)
	assert.Empty(t, inProgress)
}

// TestDefaultBuildIsGitArchive: without a command, the artifact is the
// commit's tree as a tar; the same commit gives the same bytes.
func TestDefaultBuildIsGitArchive(t *testing.T) {
	f := newGitFixture(t, "", "")
	sha := f.commit(t, alice, "one")
	a, p := f.build(t, "rel-1", sha)
	b, p2 := f.build(t, "rel-2", "main")
	assert.Equal(t, a.Digest, b.Digest)
	assert.Equal(t, a.ArtifactRef, b.ArtifactRef)
	assert.Nil(t, p.Rebuild, "first build of the commit")
	require.NotNil(t, p2.Rebuild)
	assert.True(t, p2.Rebuild.Reproducible)
	assert.Equal(t, []attest.ResourceDescriptor{{URI: "git+" + f.repo.Dir, Digest: map[string]string{"gitCommit": sha}}},
		provenanceDeps(t, b))
	want, err := f.repo.Git(nil, "archive", "--format=tar", sha)
	require.NoError(t, err)
	got, err := os.ReadFile(a.ArtifactRef)
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(want), strings.TrimSpace(string(got)))
}

func provenanceDeps(t *testing.T, res api.BuildResult) []attest.ResourceDescriptor {
	var p attest.Provenance
	verified(t, res.Provenance, attest.RoleBuild, attest.PredicateProvenance, res.Digest, &p)
	return p.BuildDefinition.ResolvedDependencies
}

// TestRebuildWithOtherBytesIsRecorded: a command that is not reproducible
// gives the same commit another digest; both artifacts stay, read-only,
// and the second build says it was not reproducible.
func TestRebuildWithOtherBytesIsRecorded(t *testing.T) {
	f := newGitFixture(t, `date +%s%N > "$FOUREYES_ARTIFACT_PATH"`, "")
	sha := f.commit(t, alice, "one")
	first, _ := f.build(t, "rel-1", sha)
	second, p := f.build(t, "rel-2", sha)
	require.NotEqual(t, first.Digest, second.Digest)
	require.NotNil(t, p.Rebuild)
	assert.False(t, p.Rebuild.Reproducible)
	assert.Equal(t, []string{first.Digest}, p.Rebuild.EarlierDigest)
	assert.Contains(t, second.Output, "not reproducible")
	artifacts, _ := stored(t, f.b.ArtifactDir)
	assert.ElementsMatch(t, []string{first.Digest, second.Digest}, artifacts)
	got, err := sha256File(first.ArtifactRef)
	require.NoError(t, err)
	assert.Equal(t, first.Digest, got, "the first artifact was not written over")
	log, err := os.ReadFile(filepath.Join(f.b.ArtifactDir, ".builds", "payments", sha))
	require.NoError(t, err)
	assert.Len(t, strings.Split(strings.TrimSpace(string(log)), "\n"), 2)
}

// TestRepositoryDisappearsMidFetch: the repository answers the listing of
// its refs, then is gone when the commit is fetched: the build fails,
// non-retryably, with git's message, at once.
func TestRepositoryDisappearsMidFetch(t *testing.T) {
	f := newGitFixture(t, "", "")
	f.commit(t, alice, "one")
	defer func() { beforeGit = nil }()
	beforeGit = func(args []string) {
		if slices.Contains(args, "fetch") {
			require.NoError(t, os.RemoveAll(f.repo.Dir))
		}
	}
	start := time.Now()
	err := f.buildErr(t, f.input(t, "rel-1", "main"))
	appErr := requireAppError(t, err, ErrTypeSourceFailed, true)
	assert.Contains(t, appErr.Error(), "fetching refs/heads/main of "+f.repo.Dir)
	assert.Contains(t, appErr.Error(), "does not appear to be a git repository")
	assert.Less(t, time.Since(start), 10*time.Second)

	beforeGit = nil
	err = f.buildErr(t, f.input(t, "rel-2", "main"))
	appErr = requireAppError(t, err, ErrTypeSourceFailed, true)
	assert.Contains(t, appErr.Error(), "does not appear to be a git repository", "gone before the listing too")
}

// TestGitTimeout: a git command that outlives its timeout is killed and the
// build fails (retryably: a slow network may recover), never hangs. The
// repository's packed-refs is a FIFO nobody writes: git blocks reading it.
func TestGitTimeout(t *testing.T) {
	f := newGitFixture(t, "", "")
	f.commit(t, alice, "one")
	require.NoError(t, syscall.Mkfifo(filepath.Join(f.repo.Dir, ".git", "packed-refs"), 0o644))
	f.b.GitTimeout = 300 * time.Millisecond
	start := time.Now()
	err := f.buildErr(t, f.input(t, "rel-1", "main"))
	appErr := requireAppError(t, err, ErrTypeSourceFailed, false)
	assert.Contains(t, appErr.Error(), "timed out")
	assert.Less(t, time.Since(start), 10*time.Second)
}

// TestBuildRefusals: the build role builds only under its own policy, with
// a valid deploy-role statement bound to the release.
func TestBuildRefusals(t *testing.T) {
	f := newGitFixture(t, "", "")
	sha := f.commit(t, alice, "one")
	other := f.deployed(t, "rel-other")
	forged, err := testkeys.Signer(attest.RoleBuild).Attest(attest.DeploymentSubject("payments", "prod"),
		attest.PredicateDeployed, attest.DeployedState{Binding: attest.Binding{Release: "rel-1", PolicySHA256: f.policyHash},
			Service: "payments", Environment: "prod", Commit: sha})
	require.NoError(t, err)
	for name, c := range map[string]struct {
		edit func(*api.BuildInput)
		want string
	}{
		"another policy":         {func(in *api.BuildInput) { in.PolicyHash = strings.Repeat("e", 64) }, "the release pinned policy sha256:eeee"},
		"no statement":           {func(in *api.BuildInput) { in.Deployed = nil }, "no statement of the deploy role says what is deployed to payments in prod"},
		"another release's":      {func(in *api.BuildInput) { in.Deployed = other }, `bound to release "rel-other", not "rel-1"`},
		"signed by another role": {func(in *api.BuildInput) { in.Deployed = forged }, "signed with the build role's key, not the deploy role's"},
	} {
		t.Run(name, func(t *testing.T) {
			in := f.input(t, "rel-1", sha)
			c.edit(&in)
			appErr := requireAppError(t, f.buildErr(t, in), ErrTypeBuildRefused, true)
			assert.Contains(t, appErr.Error(), c.want)
		})
	}
}

// TestServiceWithoutRepository: refused unless the environment allows it;
// then built from the declared commit, no change attested.
func TestServiceWithoutRepository(t *testing.T) {
	f := newGitFixture(t, "", "")
	in := f.input(t, "rel-1", commitA)
	in.Service = "web"
	in.Deployed = nil
	appErr := requireAppError(t, f.buildErr(t, in), ErrTypeBuildRefused, true)
	assert.Contains(t, appErr.Error(), "service web has no repository in the build role's policy, and environment prod refuses services without one")

	g := newGitFixture(t, "", "    services_without_repository: allow\n")
	in = api.BuildInput{ReleaseID: "rel-1", Service: "web", Environment: "prod", Commit: commitA, PolicyHash: g.policyHash,
		Authors: []string{"alice"}, Requester: testRequester, Git: true}
	res, err := execute[api.BuildResult](t, g.b, g.b.Build, in)
	require.NoError(t, err)
	var p attest.Provenance
	verified(t, res.Provenance, attest.RoleBuild, attest.PredicateProvenance, res.Digest, &p)
	assert.Nil(t, p.BuildDefinition.ExternalParameters.Change)
	assert.Empty(t, p.BuildDefinition.ExternalParameters.Repository)
	in.Commit = "main"
	res, err = execute[api.BuildResult](t, g.b, g.b.Build, in)
	requireAppError(t, err, ErrTypeInvalidInput, true)
	_ = res
}

// TestDeployedStatement: the deploy role signs what its record holds.
func TestDeployedStatement(t *testing.T) {
	f := newGitFixture(t, "", "")
	var st attest.DeployedState
	env := f.deployed(t, "rel-1")
	fact, err := testkeys.Ring().Verify(env, attest.RoleDeploy, attest.PredicateDeployed)
	require.NoError(t, err)
	require.NoError(t, fact.CheckSubject(attest.DeploymentSubject("payments", "prod")))
	require.NoError(t, fact.Decode(&st))
	assert.Equal(t, "", st.Commit)
	assert.Equal(t, "", st.By)
	assert.Equal(t, "rel-1", st.Release)
	assert.Equal(t, f.policyHash, st.PolicySHA256)

	sha := f.commit(t, alice, "one")
	built, _ := f.build(t, "rel-2", sha)
	require.NoError(t, f.deploy(t, f.deployInput(t, "rel-2", built, "review:bob", "approval:carol", "approval:dave")))
	fact, err = testkeys.Ring().Verify(f.deployed(t, "rel-3"), attest.RoleDeploy, attest.PredicateDeployed)
	require.NoError(t, err)
	require.NoError(t, fact.Decode(&st))
	assert.Equal(t, sha, st.Commit)
	assert.Equal(t, "rel-2", st.By)
	assert.Equal(t, "rel-3", st.Release)
	assert.Equal(t, built.Digest, st.Digest)
}

// TestStaleLockOfAKilledGitIsCleared: a git killed with its worker leaves a
// ref lock in the mirror; the next build, holding the mirror, clears it.
func TestStaleLockOfAKilledGitIsCleared(t *testing.T) {
	f := newGitFixture(t, "", "")
	sha := f.commit(t, alice, "one")
	f.build(t, "rel-1", sha)
	mirror := mirrorDir(f.b.StateDir, f.repo.Dir)
	writeFile(t, filepath.Join(mirror, "refs", "foureyes", "heads", "main.lock"), "")
	writeFile(t, filepath.Join(mirror, "packed-refs.lock"), "")
	_, p := f.build(t, "rel-2", "main")
	assert.Equal(t, sha, p.Commit)
}
