package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
)

// ReviewActivities are the review role's activities.
type ReviewActivities struct {
	Identity    string
	ArtifactDir string
	Command     string // optional extra check; exit 0 = pass
	Timeout     time.Duration
	// ScannerToken is the review role's own secret, passed to Command as
	// FOUREYES_REVIEW_SCANNER_TOKEN when set.
	ScannerToken string
	// Signer is the review role's key: it signs every verdict.
	Signer *attest.Signer
}

// Review runs the automated checks on a built artifact. Failed checks are
// findings (Passed=false), not errors: the review gate shows them to people.
// Command runs only on an artifact that passed the default checks.
func (a *ReviewActivities) Review(ctx context.Context, in api.ReviewInput) (api.ReviewResult, error) {
	// The verdict is signed about the digest: without a well-formed one
	// there is nothing to vouch for.
	if err := checkDigest(in.Digest); err != nil {
		return api.ReviewResult{}, err
	}
	if err := requireSigner(a.Signer, attest.RoleReview); err != nil {
		return api.ReviewResult{}, err
	}
	findings, err := a.findings(ctx, in)
	if err != nil {
		return api.ReviewResult{}, err
	}
	res := api.ReviewResult{Passed: len(findings) == 0, Findings: findings, Executor: a.Identity}
	verdict := attest.Review{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
		Commit: in.Commit, Passed: res.Passed, Findings: findings, Reviewer: a.Identity, At: time.Now().UTC()}
	if res.Attestation, err = sign(a.Signer, attest.ArtifactSubject(in.Digest), attest.PredicateReview, verdict); err != nil {
		return api.ReviewResult{}, err
	}
	return res, nil
}

// findings runs the default checks, then Command on a sound artifact.
func (a *ReviewActivities) findings(ctx context.Context, in api.ReviewInput) ([]string, error) {
	findings, path := a.defaultChecks(in)
	if a.Command != "" && len(findings) == 0 {
		_, err := runShell(ctx, a.Command, a.env(in, path), a.Timeout)
		var ce *commandError
		if errors.As(err, &ce) {
			findings = append(findings, fmt.Sprintf("review command: %s\n%s", ce.msg, ce.output))
		} else if err != nil {
			return nil, err
		}
	}
	return findings, nil
}

// defaultChecks returns the findings and, when it is sound, the artifact
// path. Review has checked the digest's form.
func (a *ReviewActivities) defaultChecks(in api.ReviewInput) ([]string, string) {
	findings := []string{}
	if err := checkCommit(in.Commit); err != nil {
		findings = append(findings, err.Error())
	}
	path, err := resolveArtifact(a.ArtifactDir, in.ArtifactRef)
	if err != nil {
		return append(findings, err.Error()), ""
	}
	got, err := sha256File(path)
	if err != nil {
		return append(findings, "artifact unreadable: "+err.Error()), ""
	}
	if got != in.Digest {
		return append(findings, fmt.Sprintf("artifact %s hashes to %s, not the built digest %s", path, got, in.Digest)), ""
	}
	return findings, path
}

func (a *ReviewActivities) env(in api.ReviewInput, path string) []string {
	env := append(baseEnv(),
		"FOUREYES_COMMIT="+in.Commit,
		"FOUREYES_SERVICE="+in.Service,
		"FOUREYES_RELEASE_ID="+in.ReleaseID,
		"FOUREYES_ARTIFACT_PATH="+path,
		"FOUREYES_ARTIFACT_DIGEST="+in.Digest)
	return withSecret(env, "FOUREYES_REVIEW_SCANNER_TOKEN", a.ScannerToken)
}
