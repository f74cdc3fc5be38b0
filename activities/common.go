package activities

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
)

// ApplicationError types returned by the activities, for retry policies and
// for the workflow to tell failures apart.
const (
	ErrTypeInvalidInput    = "InvalidInput"    // a field of the input is malformed (non-retryable)
	ErrTypeBadPolicy       = "BadPolicy"       // the policy file does not load (non-retryable)
	ErrTypeCommandFailed   = "CommandFailed"   // a configured command exited non-zero or timed out
	ErrTypeDigestMismatch  = "DigestMismatch"  // the artifact is not the one approved (non-retryable)
	ErrTypeArtifactMissing = "ArtifactMissing" // the artifact is absent or outside the artifact dir (non-retryable)
)

var (
	digestRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func invalid(field, value, want string) error {
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("invalid %s %q: %s", field, value, want), ErrTypeInvalidInput, nil)
}

// checkName guards names that become file names (service, environment).
func checkName(field, v string) error {
	if !api.ValidName(v) {
		return invalid(field, v, "want "+api.NameRule)
	}
	return nil
}

func checkCommit(v string) error {
	if !api.ValidCommit(v) {
		return invalid("commit", v, "want a full 40-character lowercase hex SHA")
	}
	return nil
}

func checkDigest(v string) error {
	if !digestRE.MatchString(v) {
		return invalid("digest", v, "want a 64-character lowercase hex SHA-256")
	}
	return nil
}

// commandFailure turns a runShell error into an ApplicationError carrying the
// output tail; other errors (cancellation) pass through. A non-zero exit is a
// definite answer, so only timeouts (maybe transient) and steps that are
// worth retrying stay retryable.
func commandFailure(step string, err error, retryable bool) error {
	var ce *commandError
	if !errors.As(err, &ce) {
		return err
	}
	msg := fmt.Sprintf("%s %s\n%s", step, ce.msg, ce.output)
	return temporal.NewApplicationErrorWithOptions(msg, ErrTypeCommandFailed,
		temporal.ApplicationErrorOptions{NonRetryable: !retryable && !ce.timedOut})
}

// resolveArtifact maps an artifact reference (absolute, or relative to dir)
// to a path that lies inside dir, also after following symlinks.
func resolveArtifact(dir, ref string) (string, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	path := ref
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	path = filepath.Clean(path)
	if !within(root, path) {
		return "", fmt.Errorf("artifact %q is outside the artifact dir %s", ref, root)
	}
	realRoot, err1 := filepath.EvalSymlinks(root)
	realPath, err2 := filepath.EvalSymlinks(path)
	if err := errors.Join(err1, err2); err != nil {
		return "", fmt.Errorf("artifact %q: %w", ref, err)
	}
	if !within(realRoot, realPath) {
		return "", fmt.Errorf("artifact %q leads outside the artifact dir %s", ref, root)
	}
	return path, nil
}

func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
