package activities

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
)

func review(t *testing.T, r *ReviewActivities, in api.ReviewInput) api.ReviewResult {
	t.Helper()
	res, err := execute[api.ReviewResult](t, r, r.Review, in)
	require.NoError(t, err)
	return res
}

func reviewInput(b api.BuildResult) api.ReviewInput {
	return api.ReviewInput{ReleaseID: "rel-1", Service: "web", Commit: commitA, ArtifactRef: b.ArtifactRef, Digest: b.Digest}
}

func TestReviewPassesBuiltArtifact(t *testing.T) {
	dir := t.TempDir()
	b := build(t, dir, "web", commitA)
	r := &ReviewActivities{Signer: reviewKey, Identity: "foureyes-review@test", ArtifactDir: dir}
	res := review(t, r, reviewInput(b))
	assert.True(t, res.Passed, res.Findings)
	assert.Empty(t, res.Findings)
	assert.Equal(t, "foureyes-review@test", res.Executor)

	// A reference relative to the review role's own artifact dir works too.
	in := reviewInput(b)
	in.ArtifactRef = filepath.Join("sha256", filepath.Base(b.ArtifactRef))
	assert.True(t, review(t, r, in).Passed)
}

func TestReviewFindings(t *testing.T) {
	dir := t.TempDir()
	b := build(t, dir, "web", commitA)
	outside := filepath.Join(t.TempDir(), "web.tar")
	data, err := os.ReadFile(b.ArtifactRef)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(outside, data, 0o644)) // same digest, wrong place
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "link.tar")))

	cases := map[string]struct {
		edit func(*api.ReviewInput)
		want string
	}{
		"digest mismatch": {func(in *api.ReviewInput) { in.Digest = strings.Repeat("0", 64) }, "hashes to"},
		"short commit":    {func(in *api.ReviewInput) { in.Commit = "abc" }, "invalid commit"},
		"dot-dot escape":  {func(in *api.ReviewInput) { in.ArtifactRef = "../" + filepath.Base(outside) }, "outside the artifact dir"},
		"absolute escape": {func(in *api.ReviewInput) { in.ArtifactRef = outside }, "outside the artifact dir"},
		"symlink escape":  {func(in *api.ReviewInput) { in.ArtifactRef = filepath.Join(dir, "link.tar") }, "leads outside"},
		"missing":         {func(in *api.ReviewInput) { in.ArtifactRef = "nope.tar" }, "nope.tar"},
	}
	r := &ReviewActivities{Signer: reviewKey, ArtifactDir: dir}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			in := reviewInput(b)
			c.edit(&in)
			res := review(t, r, in)
			assert.False(t, res.Passed)
			require.NotEmpty(t, res.Findings)
			assert.Contains(t, strings.Join(res.Findings, "\n"), c.want)
		})
	}
}

func TestReviewDetectsTamperedArtifact(t *testing.T) {
	dir := t.TempDir()
	b := build(t, dir, "web", commitA)
	writeFile(t, b.ArtifactRef, "tampered")
	res := review(t, &ReviewActivities{Signer: reviewKey, ArtifactDir: dir}, reviewInput(b))
	assert.False(t, res.Passed)
	assert.Contains(t, res.Findings[0], "not the built digest")
}

func TestReviewCommand(t *testing.T) {
	t.Setenv("FOUREYES_BUILD_REGISTRY_TOKEN", "foreign-secret")
	dir := t.TempDir()
	b := build(t, dir, "web", commitA)
	pass := `test "$FOUREYES_ARTIFACT_DIGEST" = "$(sha256sum "$FOUREYES_ARTIFACT_PATH" | cut -d' ' -f1)" &&
		test "$FOUREYES_REVIEW_SCANNER_TOKEN" = scan && test -z "$FOUREYES_BUILD_REGISTRY_TOKEN"`
	res := review(t, &ReviewActivities{Signer: reviewKey, ArtifactDir: dir, Command: pass, ScannerToken: "scan"}, reviewInput(b))
	assert.True(t, res.Passed, res.Findings)

	fail := `echo "CVE-2099-1 in libfoo"; exit 1`
	res = review(t, &ReviewActivities{Signer: reviewKey, ArtifactDir: dir, Command: fail}, reviewInput(b))
	assert.False(t, res.Passed)
	require.Len(t, res.Findings, 1)
	assert.Contains(t, res.Findings[0], "CVE-2099-1 in libfoo")
}
