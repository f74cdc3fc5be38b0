package activities

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/demokeys"
	"github.com/foureyes/foureyes/internal/gitrepo"
)

// signedFixture is a git fixture whose people list their demo keys (mallory
// is nobody's); extra goes into prod's settings (e.g. commits: signed).
func signedFixture(t *testing.T, extra string) (*gitFixture, *sigRepo) {
	t.Helper()
	f := newGitFixtureOf(t, signedPolicyYAML(), "", extra)
	keys := t.TempDir()
	for _, id := range []string{"alice", "bob", "carol", "dave", "mallory"} {
		_, err := demokeys.WriteFile(keys, id)
		require.NoError(t, err)
	}
	return f, &sigRepo{Repo: f.repo, keys: keys}
}

// TestForgedAuthorCountsTheSigner: dave commits with author and committer
// set to frank and signs with his own key; the signer is an author, so dave
// cannot approve what he wrote under another name. Without the signature
// check the change's identities would be frank's alone.
func TestForgedAuthorCountsTheSigner(t *testing.T) {
	f, r := signedFixture(t, "")
	sha := r.commit(t, frank, "dave")
	_, p := f.build(t, "rel-1", sha)
	require.Len(t, p.Change.Commits, 1)
	c := p.Change.Commits[0]
	assert.Equal(t, "frank@example.com", c.Author)
	assert.Equal(t, "frank@example.com", c.Committer)
	assert.Equal(t, attest.SignatureVerified, c.Signature)
	assert.Equal(t, "dave", c.Signer)
	assert.Equal(t, "signed by dave", c.Proof())
	assert.Equal(t, []string{"dave"}, p.Change.Signers)
	assert.Equal(t, []string{"dave", "frank"}, p.Change.Identities, "the signer, and the declared name (which can only exclude)")
	assert.Zero(t, p.Change.Unproven)

	built, _ := f.build(t, "rel-1", sha)
	err := f.deploy(t, f.deployInput(t, "rel-1", built, "review:bob", "approval:carol", "approval:dave"))
	appErr := requireAppError(t, err, "DeployRefused", true)
	assert.Contains(t, appErr.Error(), "not counted: dave (you signed a commit of this change)", "the deploy role counts the signer too")
}

// TestUnprovenCommitsAreShown: under commits: any an unsigned commit builds,
// flagged "authorship unproven".
func TestUnprovenCommitsAreShown(t *testing.T) {
	f, r := signedFixture(t, "")
	r.commit(t, alicePerson, "alice")
	sha := r.commit(t, bobPerson, "")
	_, p := f.build(t, "rel-1", sha)
	assert.Equal(t, 1, p.Change.Unproven)
	assert.Equal(t, "unsigned: authorship unproven", p.Change.Commits[0].Proof())
	assert.Equal(t, []string{"alice"}, p.Change.Signers)
}

// TestSignedCommitsRefusals: under commits: signed, each commit that is not
// signed by a person of the policy fails the build closed, naming the
// commit and why.
func TestSignedCommitsRefusals(t *testing.T) {
	f, r := signedFixture(t, "    commits: signed\n")
	base := r.commit(t, alicePerson, "alice")
	_, p := f.build(t, "rel-ok", base)
	assert.Equal(t, []string{"alice"}, p.Change.Signers, "a signed commit builds")

	cases := []struct {
		name string
		make func() string
		want string
	}{
		{"unsigned", func() string { return r.commit(t, alicePerson, "") }, "is unsigned"},
		{"key in no policy", func() string { return r.commit(t, alicePerson, "mallory") },
			"is unknown_key: signed by " + fingerprint("mallory") + ", a key no person of the policy lists"},
		{"transplanted signature", func() string { return r.transplanted(t, r.commit(t, alicePerson, "alice")) },
			"is bad: the signature by " + fingerprint("alice") + " does not verify for this commit"},
		{"SHA-1 ssh-rsa", func() string { return r.sha1RSA(t, rsaSigner(t)) }, "is unsupported: an ssh-rsa signature (SHA-1)"},
		{"GPG", func() string { return r.gpgSigned(t) }, "is unsupported: a GPG signature: unsupported, only SSH signatures"},
		{"another namespace", func() string { return r.crafted(t, demokeys.Signer("alice"), "file") }, `is bad: signed in namespace "file", not git's`},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, r.Reset(base))
			sha := tc.make()
			err := f.buildErr(t, f.input(t, fmt.Sprintf("rel-%d", i), sha))
			appErr := requireAppError(t, err, ErrTypeBuildRefused, true)
			assert.Contains(t, appErr.Error(), "commit "+sha+" (")
			assert.Contains(t, appErr.Error(), tc.want)
			assert.Contains(t, appErr.Error(), "payments in prod takes only commits signed by a key of a person of the policy (commits: signed; fail closed)")
		})
	}
}

func fingerprint(id string) string {
	return ssh.FingerprintSHA256(demokeys.Signer(id).PublicKey())
}

// TestFirstReleaseCountsEveryAuthor: dave commits, frank fixes a typo on
// top; the first release's change is both commits (the whole history), so
// dave is an author. With a baseline in the policy, only what came after it.
func TestFirstReleaseCountsEveryAuthor(t *testing.T) {
	f, r := signedFixture(t, "")
	onboarded := r.commit(t, bobPerson, "bob")
	daves := r.commit(t, gitrepo.Person{Name: "Dave", Email: "dave@example.com"}, "dave")
	typo := r.commit(t, frank, "")
	_, p := f.build(t, "rel-1", typo)
	assert.Equal(t, []string{typo, daves, onboarded}, shas(p.Change), "nothing deployed: the whole history")
	assert.Equal(t, 3, p.Change.CommitCount)
	assert.Equal(t, []string{"bob", "dave", "frank"}, p.Change.Identities)

	g, _ := signedFixture(t, "")
	g.repo = f.repo
	content := strings.Replace(signedPolicyYAML(), "environments:\n", fmt.Sprintf(
		"services:\n  payments:\n    repository: %q\n    baseline: %s\nenvironments:\n", f.repo.Dir, onboarded), 1)
	g.policyPath, g.policyHash = writePolicy(t, withKeys(content))
	g.b.PolicyFile, g.d.PolicyFile = g.policyPath, g.policyPath
	_, p = g.build(t, "rel-2", typo)
	assert.Equal(t, onboarded, p.Change.Baseline)
	assert.Equal(t, "", p.Change.Base)
	assert.Equal(t, []string{typo, daves}, shas(p.Change), "every commit since the baseline")
	assert.Equal(t, []string{"dave", "frank"}, p.Change.Identities)
}

// TestNoApproverLeftFailsTheBuild: a change written by every prod owner but
// one cannot pass prod's approval gate (2 of prod-owners): the build fails
// with that reason instead of leaving a gate nobody can sign.
func TestNoApproverLeftFailsTheBuild(t *testing.T) {
	f, r := signedFixture(t, "")
	for _, id := range []string{"alice", "carol", "dave"} {
		r.commit(t, alicePerson, id)
	}
	sha := r.commit(t, gitrepo.Person{Name: "Gina", Email: "gina@example.com"}, "")
	err := f.buildErr(t, f.input(t, "rel-1", sha))
	appErr := requireAppError(t, err, ErrTypeBuildRefused, true)
	assert.Contains(t, appErr.Error(), `the change's authors (alice, carol, dave, gina) and the requester "rita" leave 1 eligible signer(s) [frank] at the approval gate of prod, which needs 2`)
}
