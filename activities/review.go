package activities

import (
	"context"
	"errors"
	"fmt"
	"time"
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
}

// Review runs the automated checks on a built artifact. Failed checks are
// findings (Passed=false), not errors: the review gate shows them to people.
// Command runs only on an artifact that passed the default checks.
func (a *ReviewActivities) Review(ctx context.Context, in ReviewInput) (ReviewResult, error) {
	findings, path := a.defaultChecks(in)
	if a.Command != "" && len(findings) == 0 {
		_, err := runShell(ctx, a.Command, a.env(in, path), a.Timeout)
		var ce *commandError
		if errors.As(err, &ce) {
			findings = append(findings, fmt.Sprintf("review command: %s\n%s", ce.msg, ce.output))
		} else if err != nil {
			return ReviewResult{}, err
		}
	}
	return ReviewResult{Passed: len(findings) == 0, Findings: findings, Executor: a.Identity}, nil
}

// defaultChecks returns the findings and, when it is sound, the artifact path.
func (a *ReviewActivities) defaultChecks(in ReviewInput) ([]string, string) {
	findings := []string{}
	if err := checkCommit(in.Commit); err != nil {
		findings = append(findings, err.Error())
	}
	if err := checkDigest(in.Digest); err != nil {
		return append(findings, err.Error()), ""
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

func (a *ReviewActivities) env(in ReviewInput, path string) []string {
	env := append(baseEnv(),
		"FOUREYES_COMMIT="+in.Commit,
		"FOUREYES_SERVICE="+in.Service,
		"FOUREYES_RELEASE_ID="+in.ReleaseID,
		"FOUREYES_ARTIFACT_PATH="+path,
		"FOUREYES_ARTIFACT_DIGEST="+in.Digest)
	return withSecret(env, "FOUREYES_REVIEW_SCANNER_TOKEN", a.ScannerToken)
}
