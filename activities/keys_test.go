package activities

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/testkeys"
	"github.com/foureyes/foureyes/policy"
)

// Who the deploy tests' releases involve.
const (
	testAuthor    = "alice"
	testRequester = "rita"
	testBuilder   = "foureyes-build@test"
	testReviewer  = "foureyes-review@test"
)

// Each role's test key.
var (
	buildKey    = testkeys.Signer(attest.RoleBuild)
	reviewKey   = testkeys.Signer(attest.RoleReview)
	approvalKey = testkeys.Signer(attest.RoleApproval)
	deployKey   = testkeys.Signer(attest.RoleDeploy)
	sealKey     = testkeys.Signer(attest.RoleOrchestrator)
)

// testPolicyYAML: bob reviews; carol and dave own prod (quorum 2); alice
// (the author) and rita (the requester) own prod too, frank both reviews
// and owns prod, ci-bot may answer both gates but counts only at review.
const testPolicyYAML = `version: 1
service_identities: [foureyes-orchestrator, foureyes-build, foureyes-review, foureyes-approval, foureyes-deploy]
release_managers: [release-managers]
humans:
  - {id: alice, email: alice@example.com, groups: [dev, prod-owners]}
  - {id: bob, email: bob@example.com, groups: [reviewers]}
  - {id: carol, email: carol@example.com, groups: [prod-owners]}
  - {id: dave, email: dave@example.com, groups: [prod-owners]}
  - {id: frank, email: frank@example.com, groups: [reviewers, prod-owners]}
  - {id: rita, email: rita@example.com, groups: [release-managers, prod-owners]}
  - {id: gina, email: gina@example.com, groups: [prod-owners]}
bots:
  - id: ci-bot
    token_sha256: 14edce5163879d8b2472a01ceb73c8389eae4f29b015a8d233b713b4615f84fd
    gates: [review, approval]
    groups: [reviewers, prod-owners]
environments:
  prod:
    # service "web" of these tests has no repository: built from its
    # declared commit, authors as declared (git_test.go builds from git)
    services_without_repository: allow
    gates:
      review: {groups: [reviewers], quorum: 1, bots_count: true, deadline: 24h}
      approval:
        groups: [prod-owners]
        quorum: 2
        bots_count: false
        deadline: 24h
%s`

// freezeNow is a freeze window of the approval gate around the present.
func freezeNow() string {
	now := time.Now().UTC()
	return fmt.Sprintf("        freeze:\n          - {start: %q, end: %q, reason: change freeze}\n",
		now.Add(-time.Minute).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
}

// withKeys appends a keys: section listing every role's test key, as the
// stack composes data/policy.yaml.
func withKeys(yaml string) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(yaml, "\n") + "\nkeys:\n")
	for _, role := range attest.Roles {
		fmt.Fprintf(&b, "  %s: [%q]\n", role, testkeys.Public(role))
	}
	return b.String()
}

// writePolicy writes content as a policy file and returns its path and hash.
func writePolicy(t *testing.T, content string) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	_, err := policy.Parse(path, []byte(content))
	require.NoError(t, err)
	return path, policy.HashBytes([]byte(content))
}

// signAs signs predicate about digest as s.
func signAs(t *testing.T, s *attest.Signer, digest, predicateType string, predicate any) attest.Envelope {
	t.Helper()
	env, err := s.Attest(attest.ArtifactSubject(digest), predicateType, predicate)
	require.NoError(t, err)
	return env
}

// verified checks env as role's fact about digest and decodes it into pred.
func verified(t *testing.T, env attest.Envelope, role, predicateType, digest string, pred any) {
	t.Helper()
	f, err := testkeys.Ring().Verify(env, role, predicateType)
	require.NoError(t, err)
	require.NoError(t, f.CheckSubject(attest.ArtifactSubject(digest)))
	require.NoError(t, f.Decode(pred))
}
