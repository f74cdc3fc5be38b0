package policy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseValid(t *testing.T) {
	p := testPolicy(t)
	assert.Equal(t, 1, p.Version)
	assert.Len(t, p.Humans, 6)
	assert.Len(t, p.Bots, 2)
	r, ok := p.Rule("prod", GateApproval)
	require.True(t, ok)
	assert.Equal(t, 2, r.Quorum)
	assert.Equal(t, 24*time.Hour, r.Deadline.Std())
	assert.Equal(t, date("2025-12-27T00:00:00Z"), r.Freeze[0].End)
	assert.Equal(t, "#releases-prod", r.SlackChannel)
	assert.Nil(t, p.Humans[3].Groups, "absent list stays nil")
}

func TestParseErrors(t *testing.T) {
	m := func(old, new string) string { return mutate(t, old, new) }
	envs := testYAML[strings.Index(testYAML, "environments:"):]
	next := strings.Count(testYAML, "\n") + 1 // first line after testYAML
	cases := []struct {
		name, yaml, want string
	}{
		// structure
		{"empty", "", "policy.yaml: empty document"},
		{"syntax", "version: [1\n", "policy.yaml: syntax error: did not find expected ',' or ']' (line 1)"},
		{"two documents", testYAML + "---\nversion: 1\n", fmt.Sprintf("policy.yaml: more than one document (line %d)", next)},
		{"not a mapping", "- version: 1\n", "policy.yaml: document must be a mapping of policy fields (line 1)"},
		{"unknown top field", testYAML + "colour: red\n", fmt.Sprintf("policy.yaml: colour: unknown field (line %d)", next)},
		{"unknown nested field", m("    slack: U0ALICE01\n", "    slack: U0ALICE01\n    nick: al\n"), "policy.yaml: humans[0].nick: unknown field (line 7)"},
		{"unknown rule field", m("        bots_count: true\n", "        bots_count: true\n        bot_count: true\n"), "policy.yaml: environments.prod.gates.review.bot_count: unknown field"},
		{"unknown window field", m("reason: holiday freeze\n", "reason: holiday freeze\n            why: x\n"), "policy.yaml: environments.prod.gates.approval.freeze[0].why: unknown field"},
		{"duplicate key", m("version: 1\n", "version: 1\nversion: 1\n"), "policy.yaml: version: duplicate key (first at line 1) (line 2)"},
		{"duplicate window key", m("reason: holiday freeze\n", "reason: holiday freeze\n            reason: again\n"), "policy.yaml: environments.prod.gates.approval.freeze[0].reason: duplicate key"},
		{"wrong type", m("quorum: 2", "quorum: two"), "policy.yaml: environments.prod.gates.approval.quorum: cannot unmarshal !!str `two` into int"},
		// version
		{"missing version", m("version: 1\n", ""), "policy.yaml: version: is required"},
		{"wrong version", m("version: 1", "version: 2"), "policy.yaml: version: must be 1, got 2 (line 1)"},
		// service identities
		{"no service identities", m("service_identities: [foureyes-build, foureyes-deploy]\n", ""), "policy.yaml: service_identities: is required"},
		{"duplicate service identity", m("[foureyes-build, foureyes-deploy]", "[foureyes-build, foureyes-build]"), `policy.yaml: service_identities[1]: duplicate service identity "foureyes-build"`},
		// humans
		{"missing id", m("  - id: bob\n", "  - slack: U0BOB0001\n"), "policy.yaml: humans[1].id: is required"},
		{"bad id", m("id: carol", "id: Carol"), `policy.yaml: humans[2].id: "Carol" is not a valid name`},
		{"duplicate identity", m("id: bob", "id: alice"), `policy.yaml: humans[1].id: duplicate identity "alice" (line 10)`},
		{"duplicate identity across bots", m("id: ci-bot", "id: bob"), `policy.yaml: bots[0].id: duplicate identity "bob"`},
		{"service identity as human", m("id: carol", "id: foureyes-build"), `policy.yaml: humans[2].id: identity "foureyes-build" is a service identity; service identities may never sign`},
		{"missing email", m("    email: bob@example.com\n", ""), "policy.yaml: humans[1].email: is required"},
		{"bad email", m("bob@example.com", "bob"), `policy.yaml: humans[1].email: "bob" is not an email address`},
		{"bad slack id", m("U0CAROL01", "carol"), `policy.yaml: humans[2].slack: "carol" is not a Slack user id`},
		{"duplicate slack id", m("U0CAROL01", "U0ALICE01"), `policy.yaml: humans[2].slack: Slack user U0ALICE01 already belongs to "alice"`},
		{"duplicate group", m("groups: [dev, owners]", "groups: [dev, dev]"), `policy.yaml: humans[0].groups[1]: duplicate group "dev"`},
		{"bad token hash", m("9c220f200955d76c0a38d308225e0ef10c5f971acaf2f8d1d8f732affa5bd1dc", "9C220F200955D76C0A38D308225E0EF10C5F971ACAF2F8D1D8F732AFFA5BD1DC"), "policy.yaml: humans[0].token_sha256: must be the token's SHA-256 as 64 lowercase hex digits"},
		{"short token hash", m("9c220f200955d76c0a38d308225e0ef10c5f971acaf2f8d1d8f732affa5bd1dc", "9c220f"), "policy.yaml: humans[0].token_sha256: must be the token's SHA-256"},
		// bots
		{"duplicate token hash", m("df27f9beb68b7766af3ab2cd7eeefe0c759ca4d085db8b2235811ad36f27cd1c", "9c220f200955d76c0a38d308225e0ef10c5f971acaf2f8d1d8f732affa5bd1dc"), `policy.yaml: bots[0].token_sha256: token hash already used by "alice"`},
		{"bot without token", m("    token_sha256: df27f9beb68b7766af3ab2cd7eeefe0c759ca4d085db8b2235811ad36f27cd1c\n", ""), "policy.yaml: bots[0].token_sha256: is required"},
		{"bot without gates", m("    gates: [review]\n", ""), "policy.yaml: bots[0].gates: is required"},
		{"bot unknown gate", m("gates: [review]", "gates: [merge]"), `policy.yaml: bots[0].gates[0]: unknown gate "merge" (want review or approval)`},
		{"bot duplicate gate", m("gates: [review, approval]", "gates: [review, review]"), `policy.yaml: bots[1].gates[1]: duplicate gate "review"`},
		// groups and identities
		{"unknown release manager group", m("release_managers: [rm]", "release_managers: [ops]"), `policy.yaml: release_managers[0]: unknown group "ops": no human or bot is a member (line 3)`},
		{"unknown group in rule", m("groups: [owners]\n        identities", "groups: [admins]\n        identities"), `policy.yaml: environments.prod.gates.approval.groups[0]: unknown group "admins": no human or bot is a member`},
		{"unknown identity in rule", m("identities: [dave]", "identities: [zed]"), `policy.yaml: environments.prod.gates.approval.identities[0]: unknown identity "zed"`},
		// environments
		{"no environments", strings.Replace(testYAML, envs, "environments: {}\n", 1), "policy.yaml: environments: at least one environment is required"},
		{"missing environments", strings.Replace(testYAML, envs, "", 1), "policy.yaml: environments: at least one environment is required"},
		{"bad environment name", m("  prod:", "  Prod:"), `policy.yaml: environments.Prod: "Prod" is not a valid environment name`},
		// the deploy role's name rule (api.ValidName): names become paths there
		{"environment name with a dot", m("  prod:", "  prod.eu:"), `policy.yaml: environments.prod.eu: "prod.eu" is not a valid environment name (lowercase letters, digits and '-'`},
		{"environment name too long", m("  prod:", "  "+strings.Repeat("p", 64)+":"), `is not a valid environment name`},
		{"unknown gate", m("      approval:\n", "      deploy:\n        groups: [owners]\n      approval:\n"), `policy.yaml: environments.prod.gates.deploy: unknown gate "deploy" (want review or approval)`},
		{"missing gate", m("      review:\n        groups: [reviewers]\n        quorum: 1\n        bots_count: true\n        deadline: 24h\n", ""), "policy.yaml: environments.prod.gates.review: is required: every environment needs a review and an approval gate"},
		{"gate nobody may sign", m("        groups: [owners]\n        identities: [dave]\n", ""), "policy.yaml: environments.prod.gates.approval: needs at least one group or identity who may sign"},
		// quorum and deadline
		{"quorum zero", m("quorum: 2", "quorum: 0"), "policy.yaml: environments.prod.gates.approval.quorum: must be at least 1"},
		{"quorum negative", m("quorum: 2", "quorum: -1"), "policy.yaml: environments.prod.gates.approval.quorum: must be at least 1"},
		{"quorum missing", m("        quorum: 2\n", ""), "policy.yaml: environments.prod.gates.approval.quorum: must be at least 1"},
		{"quorum unreachable", m("quorum: 2", "quorum: 4"), "policy.yaml: environments.prod.gates.approval.quorum: quorum 4 but only 3 identities may sign (alice, carol, dave)"},
		{"deadline zero", m("        quorum: 2\n        deadline: 24h", "        quorum: 2\n        deadline: 0s"), "policy.yaml: environments.prod.gates.approval.deadline: must be positive, got 0s"},
		{"deadline negative", m("        quorum: 2\n        deadline: 24h", "        quorum: 2\n        deadline: -1h"), "policy.yaml: environments.prod.gates.approval.deadline: must be positive, got -1h0m0s"},
		{"deadline missing", m("        quorum: 2\n        deadline: 24h\n", "        quorum: 2\n"), "policy.yaml: environments.prod.gates.approval.deadline: is required"},
		{"deadline not a duration", m("        quorum: 2\n        deadline: 24h", "        quorum: 2\n        deadline: soon"), `policy.yaml: environments.prod.gates.approval.deadline: must be a duration like "24h", got "soon"`},
		{"deadline a number", m("        quorum: 2\n        deadline: 24h", "        quorum: 2\n        deadline: 86400"), `policy.yaml: environments.prod.gates.approval.deadline: must be a duration like "24h"`},
		// freeze windows
		{"freeze end before start", m("end: 2025-12-27T00:00:00Z", "end: 2025-12-23T00:00:00Z"), "policy.yaml: environments.prod.gates.approval.freeze[0].end: must be after start (2025-12-24T00:00:00Z)"},
		{"freeze end equals start", m("end: 2025-12-27T00:00:00Z", "end: 2025-12-24T00:00:00Z"), "policy.yaml: environments.prod.gates.approval.freeze[0].end: must be after start"},
		{"freeze missing end", m("            end: 2025-12-27T00:00:00Z\n", ""), "policy.yaml: environments.prod.gates.approval.freeze[0].end: is required"},
		{"freeze missing reason", m("            reason: holiday freeze\n", ""), "policy.yaml: environments.prod.gates.approval.freeze[0].reason: is required"},
		{"freeze year out of range", m("start: 2025-12-24T00:00:00Z", "start: 0001-01-01T00:00:00+01:00"), "policy.yaml: environments.prod.gates.approval.freeze[0].start: must be in the years 1 to 9999 (UTC)"},
		{"freeze bad time", m("start: 2025-12-24T00:00:00Z", "start: christmas"), `policy.yaml: environments.prod.gates.approval.freeze[0].start: must be a time like 2025-12-24T00:00:00Z, got "christmas"`},
		{"freeze reason not text", m("reason: holiday freeze", `reason: "holiday\u0007freeze"`), "policy.yaml: environments.prod.gates.approval.freeze[0].reason: must be printable text on one line"},
		{"freeze not a mapping", m("          - start: 2025-12-24T00:00:00Z\n            end: 2025-12-27T00:00:00Z\n            reason: holiday freeze\n", "          - soon\n"), "policy.yaml: environments.prod.gates.approval.freeze[0]: freeze window must be a mapping"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse("policy.yaml", []byte(tc.yaml))
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseErrorLine(t *testing.T) {
	text := mutate(t, "quorum: 2", "quorum: 0")
	_, err := Parse("policy.yaml", []byte(text))
	want := fmt.Sprintf("policy.yaml: environments.prod.gates.approval.quorum: must be at least 1 (line %d)", lineOf(t, text, "quorum: 0"))
	require.EqualError(t, err, want)
	var pe *Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "environments.prod.gates.approval.quorum", pe.Path)
}

// Errors are deterministic although environments are a map.
func TestParseErrorDeterministic(t *testing.T) {
	text := strings.Replace(testYAML, "quorum: 1\n", "quorum: 0\n", 1) // review
	text = strings.Replace(text, "environments:\n", "environments:\n  aaa:\n    gates: {}\n  zzz:\n    gates: {}\n", 1)
	for range 20 {
		_, err := Parse("policy.yaml", []byte(text))
		require.ErrorContains(t, err, "policy.yaml: environments.aaa.gates.review: is required")
	}
}

func TestParseJSON(t *testing.T) {
	p := testPolicy(t)
	data, err := json.MarshalIndent(p, "", "  ")
	require.NoError(t, err)
	q, err := Parse("policy.json", data)
	require.NoError(t, err)
	assert.Equal(t, p, q)

	bad := strings.Replace(string(data), `"id": "bob"`, `"id": "bob", "nick": "b"`, 1)
	_, err = Parse("policy.json", []byte(bad))
	require.ErrorContains(t, err, "policy.json: humans[1].nick: unknown field")
}

// The workflow receives the policy as a Temporal JSON payload.
func TestJSONRoundTrip(t *testing.T) {
	p := testPolicy(t)
	data, err := json.Marshal(p)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"deadline":"24h0m0s"`)
	var q Policy
	require.NoError(t, json.Unmarshal(data, &q))
	assert.Equal(t, *p, q)
}

func TestDurationJSON(t *testing.T) {
	var d Duration
	require.NoError(t, json.Unmarshal([]byte(`"90m"`), &d))
	assert.Equal(t, 90*time.Minute, d.Std())
	assert.Error(t, json.Unmarshal([]byte(`5400`), &d))
	assert.Error(t, json.Unmarshal([]byte(`"soon"`), &d))
	b, err := json.Marshal(Duration(90 * time.Minute))
	require.NoError(t, err)
	assert.Equal(t, `"1h30m0s"`, string(b))
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(path, []byte(testYAML), 0o600))
	p, hash, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, testPolicy(t), p)
	assert.Equal(t, HashBytes([]byte(testYAML)), hash)
	assert.Len(t, hash, 64)

	require.NoError(t, os.WriteFile(path, []byte("version: 2\n"), 0o600))
	_, _, err = Load(path)
	require.EqualError(t, err, path+": version: must be 1, got 2 (line 1)")

	_, _, err = Load(filepath.Join(t.TempDir(), "missing.yaml"))
	require.ErrorContains(t, err, "read policy:")
}

func TestHashBytes(t *testing.T) {
	assert.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", HashBytes(nil))
}

func TestParseMinimal(t *testing.T) {
	p, err := Parse("min.yaml", []byte(minimalYAML))
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, p.Awaiting(Check{Environment: "e", Gate: GateReview}))
	w, ok := p.Frozen("e", GateApproval, date("2025-01-01T12:00:00Z"))
	assert.True(t, ok)
	assert.Equal(t, "r", w.Reason)
}

// Anchors, aliases and merge keys are YAML; values reached through them count.
func TestParseAliases(t *testing.T) {
	text := mutate(t, "      approval:\n        groups: [owners]\n        identities: [dave]\n        quorum: 2\n        deadline: 24h\n",
		"      approval:\n        <<: &rule {quorum: 2, deadline: &day 24h}\n        groups: [owners]\n        identities: [dave]\n")
	text = strings.Replace(text, "          - start: 2025-12-24T00:00:00Z\n", "          - start: &xmas 2025-12-24T00:00:00Z\n", 1)
	text += "          - {start: *xmas, end: 2025-12-25T00:00:00Z, reason: *day}\n"
	p, err := Parse("policy.yaml", []byte(text))
	require.NoError(t, err)
	r, _ := p.Rule("prod", GateApproval)
	assert.Equal(t, 2, r.Quorum)
	assert.Equal(t, 24*time.Hour, r.Deadline.Std())
	require.Len(t, r.Freeze, 2)
	assert.Equal(t, r.Freeze[0].Start, r.Freeze[1].Start)
	assert.Equal(t, "24h", r.Freeze[1].Reason)
}

// Times are kept in UTC so that a JSON round trip leaves them unchanged.
func TestParseTimes(t *testing.T) {
	text := mutate(t, "start: 2025-12-24T00:00:00Z", `start: "2025-12-23"`)
	text = strings.Replace(text, "end: 2025-12-27T00:00:00Z", "end: 2025-12-27T01:00:00+01:00", 1)
	p, err := Parse("policy.yaml", []byte(text))
	require.NoError(t, err)
	r, _ := p.Rule("prod", GateApproval)
	assert.Equal(t, date("2025-12-23T00:00:00Z"), r.Freeze[0].Start)
	assert.Equal(t, date("2025-12-27T00:00:00Z"), r.Freeze[0].End)
	assert.Equal(t, time.UTC, r.Freeze[0].End.Location())
}
