package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Tokens whose SHA-256 the test policy holds.
const (
	aliceToken = "alice-token"
	botToken   = "bot-token"
	scanToken  = "scan-token"
)

// testYAML is a small valid policy the tests mutate one line at a time.
const testYAML = `version: 1
service_identities: [foureyes-build, foureyes-deploy]
release_managers: [rm]
humans:
  - id: alice
    slack: U0ALICE01
    email: alice@example.com
    groups: [dev, owners]
    token_sha256: 9c220f200955d76c0a38d308225e0ef10c5f971acaf2f8d1d8f732affa5bd1dc
  - id: bob
    email: bob@example.com
    groups: [reviewers]
  - id: carol
    slack: U0CAROL01
    email: carol@example.com
    groups: [owners]
  - id: dave
    email: dave@example.com
  - id: erin
    email: erin@example.com
    groups: [qa]
  - id: rita
    email: rita@example.com
    groups: [rm]
bots:
  - id: ci-bot
    token_sha256: df27f9beb68b7766af3ab2cd7eeefe0c759ca4d085db8b2235811ad36f27cd1c
    gates: [review]
    groups: [reviewers]
  - id: scan-bot
    token_sha256: 15ddd4ffebedf98be7b9b4939611fcaf30c3837ef6411d7b25984e3129e3a921
    gates: [review, approval]
    groups: [owners]
environments:
  prod:
    gates:
      review:
        groups: [reviewers]
        quorum: 1
        bots_count: true
        deadline: 24h
      approval:
        groups: [owners]
        identities: [dave]
        quorum: 2
        deadline: 24h
        slack_channel: "#releases-prod"
        freeze:
          - start: 2025-12-24T00:00:00Z
            end: 2025-12-27T00:00:00Z
            reason: holiday freeze
`

func testPolicy(t *testing.T) *Policy {
	t.Helper()
	p, err := Parse("policy.yaml", []byte(testYAML))
	require.NoError(t, err)
	return p
}

// mutate replaces exactly one occurrence of old in testYAML.
func mutate(t *testing.T, old, new string) string {
	t.Helper()
	require.Equal(t, 1, strings.Count(testYAML, old), "mutation target %q must occur once", old)
	return strings.Replace(testYAML, old, new, 1)
}

// lineOf is the 1-based line of the first line of text containing s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	i := strings.Index(text, s)
	require.GreaterOrEqual(t, i, 0, "%q not in text", s)
	return strings.Count(text[:i], "\n") + 1
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
