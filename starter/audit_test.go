package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/testkeys"
	"github.com/foureyes/foureyes/judge"
	"github.com/foureyes/foureyes/policy"
)

// minimalPolicy is a valid policy; keys are appended per test.
const minimalPolicy = `version: 1
service_identities: [foureyes-orchestrator]
release_managers: [rm]
humans:
  - id: carol
    email: carol@example.com
    groups: [owners, rm]
environments:
  prod:
    gates:
      review: {groups: [owners], quorum: 1, deadline: 24h}
      approval: {groups: [owners], quorum: 1, deadline: 24h}
`

// writePolicy writes minimalPolicy with keys (none if nil) and returns its
// path and hash.
func writePolicy(t *testing.T, keys map[string][]string) (string, string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(minimalPolicy)
	if keys != nil {
		b.WriteString("keys:\n")
		for _, role := range attest.Roles {
			fmt.Fprintf(&b, "  %s: [%q]\n", role, keys[role][0])
		}
	}
	file := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(file, []byte(b.String()), 0o600))
	_, hash, err := policy.Load(file)
	require.NoError(t, err)
	return file, hash
}

func attestAs(t *testing.T, role string, subject attest.Subject, predicateType string, predicate any) json.RawMessage {
	t.Helper()
	env, err := testkeys.Signer(role).Attest(subject, predicateType, predicate)
	require.NoError(t, err)
	return json.RawMessage(env)
}

// signedTrail is release r1's trail, bound to policyHash and sealed by the
// orchestrator's test key.
func signedTrail(t *testing.T, policyHash string) []audit.Entry {
	b := attest.Binding{Release: "r1", PolicySHA256: policyHash}
	digest := strings.Repeat("ab", 32)
	prov := attest.Provenance{BuildDefinition: attest.BuildDefinition{ExternalParameters: attest.BuildParameters{Binding: b}}}
	dec := attest.Decision{Binding: b, Gate: "approval", Verdict: "approve", Identity: "carol", Channel: "slack"}
	entries := []audit.Entry{
		{Type: audit.EventReleaseStarted, Actor: "rita", Outcome: "ok"},
		{Type: audit.EventStageFinished, Stage: "code", Outcome: "ok",
			Envelope: attestAs(t, attest.RoleBuild, attest.ArtifactSubject(digest), attest.PredicateProvenance, prov)},
		{Type: audit.EventDecision, Stage: "approve", Actor: "carol", Channel: "slack", Outcome: "approve",
			Envelope: attestAs(t, attest.RoleApproval, attest.ArtifactSubject(digest), attest.PredicateDecision, dec)},
		{Type: audit.EventReleaseEnded, Outcome: "deployed"},
	}
	c := rechain(entries)
	s := attest.Seal{Binding: b, Head: c.Head(), Entries: len(c.Links), Status: "deployed", Sealer: "foureyes-orchestrator@h"}
	c.Append(audit.Entry{Time: at.Add(time.Hour), Release: "r1", Type: audit.EventSealed, Executor: s.Sealer, Outcome: "deployed",
		Envelope: attestAs(t, attest.RoleOrchestrator, attest.SealSubject("r1", s.Head), attest.PredicateSeal, s)})
	return c.Entries()
}

var at = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// rechain links entries anew (Seq, Prev and Hash recomputed, envelopes
// kept): what an attacker does after removing entries from an export.
func rechain(entries []audit.Entry) *audit.Chain {
	c := &audit.Chain{}
	for i, e := range entries {
		if e.Type != audit.EventSealed {
			e.Time = at.Add(time.Duration(i) * time.Minute)
		}
		e.Release = "r1"
		c.Append(e)
	}
	return c
}

func writeTrail(t *testing.T, entries []audit.Entry) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, audit.Export(&buf, entries))
	file := filepath.Join(t.TempDir(), "trail.jsonl")
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o600))
	return file
}

func TestAuditVerifySigned(t *testing.T) {
	t.Setenv("FOUREYES_POLICY_FILE", "")
	pol, hash := writePolicy(t, testkeys.PolicyKeys())
	trail := signedTrail(t, hash)
	file := writeTrail(t, trail)
	keyID, _ := testkeys.Signer(attest.RoleOrchestrator).KeyID()

	code, out, errs := cli(t, nil, "audit", "--verify", file, "--policy", pol)
	require.Equal(t, 0, code, errs)
	assert.Empty(t, errs)
	assert.Equal(t, "ok: 5 entries, chain head "+trail[4].Hash+"\n"+
		"envelopes: 3 verified (orchestrator 1, build 1, approval 1)\n"+
		"sealed: by orchestrator key "+keyID+" (foureyes-orchestrator@h), head "+trail[3].Hash+", 4 entries, status deployed\n"+
		"release r1 under policy sha256:"+hash+"\n"+
		"re-judged: no (no scoped decision: nothing decided, or a trail from before scoped statements)\n", out)

	code, out, errs = cli(t, nil, "audit", "--verify", file, "--policy", pol, "--json")
	require.Equal(t, 0, code, errs)
	var v struct {
		Entries      int            `json:"entries"`
		Head         string         `json:"head"`
		PolicySHA256 string         `json:"policy_sha256"`
		Envelopes    map[string]int `json:"envelopes"`
		Seal         struct {
			KeyID string `json:"key_id"`
		} `json:"seal"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, 5, v.Entries)
	assert.Equal(t, trail[4].Hash, v.Head)
	assert.Equal(t, hash, v.PolicySHA256)
	assert.Equal(t, map[string]int{"orchestrator": 1, "build": 1, "approval": 1}, v.Envelopes)
	assert.Equal(t, keyID, v.Seal.KeyID)

	t.Setenv("FOUREYES_POLICY_FILE", pol)
	code, _, errs = cli(t, nil, "audit", "--verify", file)
	assert.Equal(t, 0, code, "the policy defaults to $FOUREYES_POLICY_FILE: %s", errs)
}

// TestAuditVerifyRefuses: a cut, a re-chained and a foreign-keyed export
// exit 3 and name the entry that fails; --chain-only would pass them all.
func TestAuditVerifyRefuses(t *testing.T) {
	t.Setenv("FOUREYES_POLICY_FILE", "")
	pol, hash := writePolicy(t, testkeys.PolicyKeys())
	trail := signedTrail(t, hash)
	otherKeys := testkeys.PolicyKeys()
	otherKeys[attest.RoleOrchestrator] = []string{testkeys.Public(testkeys.Outsider)}
	otherPol, _ := writePolicy(t, otherKeys)
	tests := []struct {
		name, policy string
		entries      []audit.Entry
		want         string
	}{
		{"cut", pol, trail[:4], "line 4 (seq 4, release_ended): the chain ends without an audit_sealed entry"},
		{"re-chained", pol, rechain(append(trail[:2:2], trail[3:]...)).Entries(), "line 4 (seq 4, audit_sealed): orchestrator envelope: the seal signs head " + trail[3].Hash},
		{"unknown sealer", otherPol, trail, "line 5 (seq 5, audit_sealed): orchestrator envelope: bad signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeTrail(t, tt.entries)
			code, out, errs := cli(t, nil, "audit", "--verify", file, "--policy", tt.policy)
			assert.Equal(t, 3, code)
			assert.Empty(t, out)
			assert.True(t, strings.HasPrefix(errs, "starter: audit: "+file+": "+tt.want), "%s", errs)

			code, out, errs = cli(t, nil, "audit", "--verify", file, "--chain-only")
			assert.Equal(t, 0, code, errs)
			assert.True(t, strings.HasPrefix(out, "ok: "), out)
			assert.Contains(t, errs, "warning: --chain-only: signatures and the seal were NOT checked")
		})
	}
}

func TestAuditVerifyUsage(t *testing.T) {
	t.Setenv("FOUREYES_POLICY_FILE", "")
	pol, hash := writePolicy(t, testkeys.PolicyKeys())
	noKeys, _ := writePolicy(t, nil)
	file := writeTrail(t, signedTrail(t, hash))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--verify", file}, "--verify needs --policy FILE (or $FOUREYES_POLICY_FILE) to check signatures and the seal"},
		{[]string{"--verify", file, "--chain-only", "--policy", pol}, "--chain-only checks no signatures: it takes no --policy"},
		{[]string{"r1", "--policy", pol}, "--policy and --chain-only go with --verify"},
		{[]string{"r1", "--chain-only"}, "--policy and --chain-only go with --verify"},
		{[]string{"--verify", file, "--intoto", "x"}, "--export and --intoto take a RELEASE, not --verify"},
		{[]string{"--verify", file, "r1", "--policy", pol}, "--verify takes a file, not a release"},
		{[]string{"--verify", file, "--policy", noKeys}, "--policy: " + noKeys + ": keys.orchestrator: is required"},
		{[]string{"--verify", file, "--policy", filepath.Join(t.TempDir(), "missing.yaml")}, "--policy: read policy: "},
		{[]string{"--verify", filepath.Join(t.TempDir(), "missing"), "--policy", pol}, "--verify: "},
	}
	for _, tt := range tests {
		code, out, errs := cli(t, nil, append([]string{"audit"}, tt.args...)...)
		assert.Equal(t, 2, code, "%v: %s", tt.args, errs)
		assert.Empty(t, out)
		assert.Contains(t, errs, "starter: audit: "+tt.want, "%v", tt.args)
	}
}

func TestAuditExportInToto(t *testing.T) {
	trail := signedTrail(t, strings.Repeat("0", 64))
	fake := &fakeTemporal{queries: map[string]any{api.QueryAudit: audit.Trail{Entries: trail}}}
	dir := t.TempDir()
	jsonl, bundle := filepath.Join(dir, "trail.jsonl"), filepath.Join(dir, "trail.intoto.jsonl")
	code, out, errs := cli(t, fake, "audit", "r1", "--export", jsonl, "--intoto", bundle)
	require.Equal(t, 0, code, errs)
	assert.Empty(t, out)
	assert.Equal(t, "exported 5 entries to "+jsonl+"\nexported 3 envelopes to "+bundle+"\n", errs)

	data, err := os.ReadFile(bundle)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Len(t, lines, 3)
	roles := []string{attest.RoleBuild, attest.RoleApproval, attest.RoleOrchestrator}
	types := []string{attest.PredicateProvenance, attest.PredicateDecision, attest.PredicateSeal}
	for i, l := range lines {
		_, err := testkeys.Ring().Verify(attest.Envelope(l), roles[i], types[i])
		assert.NoError(t, err, "line %d", i+1)
	}

	code, out, _ = cli(t, fake, "audit", "r1", "--intoto", "-")
	require.Equal(t, 0, code)
	assert.Equal(t, string(data), out)
}

// judgedPolicy: alice, bob and carol own prod; web has no repository.
const judgedPolicy = `version: 1
service_identities: [foureyes-orchestrator, foureyes-build, foureyes-review]
release_managers: [rm]
humans:
  - {id: alice, email: alice@example.com, groups: [owners]}
  - {id: bob, email: bob@example.com, groups: [owners]}
  - {id: carol, email: carol@example.com, groups: [owners, rm]}
environments:
  prod:
    services_without_repository: allow
    gates:
      review: {groups: [owners], quorum: 1, deadline: 24h}
      approval: {groups: [owners], quorum: 1, deadline: 24h}
`

// writeJudgedPolicy writes judgedPolicy with the test keys; it returns its
// path and hash.
func writeJudgedPolicy(t *testing.T) (string, string) {
	t.Setenv("FOUREYES_POLICY_FILE", "")
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	var b strings.Builder
	b.WriteString(judgedPolicy + "keys:\n")
	for _, role := range attest.Roles {
		fmt.Fprintf(&b, "  %s: [%q]\n", role, testkeys.PolicyKeys()[role][0])
	}
	require.NoError(t, os.WriteFile(pol, []byte(b.String()), 0o600))
	_, hash, err := policy.Load(pol)
	require.NoError(t, err)
	return pol, hash
}

// judgedTrail is release r1 of alice's change: bob reviews, alice's own
// approval is recorded as aliceOutcome (the workflow refused it), carol
// approves; deployed and sealed with the orchestrator's key.
func judgedTrail(t *testing.T, hash string, aliceAccepted bool) []audit.Entry {
	b, digest, commit := attest.Binding{Release: "r1", PolicySHA256: hash}, strings.Repeat("ab", 32), strings.Repeat("c", 40)
	sc := attest.Scope{Service: "web", Environment: "prod", RunID: "run-1"}
	prov := attest.Provenance{BuildDefinition: attest.BuildDefinition{BuildType: attest.BuildType, ExternalParameters: attest.BuildParameters{
		Binding: b, Service: "web", Environment: "prod", Commit: commit, Authors: []string{"alice"}, Requester: "rita"}},
		RunDetails: attest.RunDetails{Builder: attest.Builder{ID: "foureyes-build@h"}}}
	rev := attest.Review{Binding: b, Commit: commit, Passed: true, Reviewer: "foureyes-review@h"}
	decision := func(gate, who string) json.RawMessage {
		d := attest.Decision{Binding: b, Scope: sc, RequestID: who + "/" + gate, Gate: gate, Verdict: "approve", Identity: who, Channel: "api", Comment: "ok"}
		return attestAs(t, attest.RoleApproval, attest.ArtifactSubject(digest), attest.PredicateDecision, d)
	}
	alice := audit.Entry{Type: audit.EventDecisionRefused, Stage: "approve", Actor: "alice", Outcome: "refused", Rule: "author",
		Envelope: decision("approval", "alice"), Detail: "approve at gate approval refused: you authored this change"}
	if aliceAccepted { // rewritten, re-chained and sealed anew (the Seal activity signed any head)
		alice.Type, alice.Outcome, alice.Rule, alice.Detail = audit.EventDecision, "approve", "", "approve at gate approval (1 of 1)"
	}
	entries := []audit.Entry{
		{Type: audit.EventReleaseStarted, Actor: "rita", Outcome: "ok"},
		{Type: audit.EventStageFinished, Stage: "code", Outcome: "ok", Envelope: attestAs(t, attest.RoleBuild, attest.ArtifactSubject(digest), attest.PredicateProvenance, prov)},
		{Type: audit.EventStageFinished, Stage: "review", Outcome: "ok", Envelope: attestAs(t, attest.RoleReview, attest.ArtifactSubject(digest), attest.PredicateReview, rev)},
		{Type: audit.EventDecision, Stage: "review", Actor: "bob", Outcome: "approve", Envelope: decision("review", "bob")},
		{Type: audit.EventGateApproved, Stage: "review", Outcome: "approved", Detail: "gate review approved by bob"},
		alice,
	}
	if !aliceAccepted {
		entries = append(entries, audit.Entry{Type: audit.EventDecision, Stage: "approve", Actor: "carol", Outcome: "approve", Envelope: decision("approval", "carol")})
	}
	entries = append(entries, audit.Entry{Type: audit.EventGateApproved, Stage: "approve", Outcome: "approved", Detail: "gate approval approved"},
		audit.Entry{Type: audit.EventReleaseEnded, Outcome: "deployed"})
	c := rechain(entries)
	s := attest.Seal{Binding: b, Head: c.Head(), Entries: len(c.Links), Status: "deployed", Sealer: "foureyes-orchestrator@h"}
	c.Append(audit.Entry{Time: at.Add(time.Hour), Release: "r1", Type: audit.EventSealed, Executor: s.Sealer, Outcome: "deployed",
		Envelope: attestAs(t, attest.RoleOrchestrator, attest.SealSubject("r1", s.Head), attest.PredicateSeal, s)})
	return c.Entries()
}

// TestAuditVerifyRejudges (issue attack 4): a trail in which alice's
// refused approval of her own change was rewritten to "accepted",
// re-chained and sealed with a genuine orchestrator seal passed
// `audit --verify` with exit 0: the seal proves who closed a trail, not
// that its outcomes hold. The judge now replays every decision; the honest
// trail agrees, the rewritten one is refused (exit 3) naming the entry.
func TestAuditVerifyRejudges(t *testing.T) {
	pol, hash := writeJudgedPolicy(t)

	code, out, errs := cli(t, nil, "audit", "--verify", writeTrail(t, judgedTrail(t, hash, false)), "--policy", pol)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "re-judged: 3 decisions and cancels replayed by the judge; every recorded outcome agrees")

	code, _, errs = cli(t, nil, "audit", "--verify", writeTrail(t, judgedTrail(t, hash, true)), "--policy", pol)
	assert.Equal(t, 3, code, errs)
	assert.Contains(t, errs, "the judge disagrees with the trail")
	assert.Contains(t, errs, "seq 6: the trail records alice's approve at gate approval as accepted; the judge refuses it: you authored this change")
}

// TestTheAuditorFollowsTheJudge: a rule added to the one judge reaches the
// auditor's verdict: the honest trail's carol approval, accepted under the
// policy alone, is now one the judge refuses.
func TestTheAuditorFollowsTheJudge(t *testing.T) {
	pol, hash := writeJudgedPolicy(t)
	defer judge.AddRule(func(c policy.Check) policy.Verdict {
		if c.Identity == "carol" {
			return policy.Verdict{Rule: "added", Reason: "carol may not approve (added rule)"}
		}
		return policy.Verdict{Allowed: true}
	})()
	code, _, errs := cli(t, nil, "audit", "--verify", writeTrail(t, judgedTrail(t, hash, false)), "--policy", pol)
	assert.Equal(t, 3, code, errs)
	assert.Contains(t, errs, "carol's approve at gate approval as accepted; the judge refuses it: carol may not approve (added rule)")
}
