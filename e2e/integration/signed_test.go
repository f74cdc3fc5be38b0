package integration

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
)

// envelopes counts, by signing role, the envelopes a release's trail must
// carry (audit.Report.Envelopes): exactly these, no more.
type envelopes map[string]int

// checkSigned exports the ended release's trail with the real starter (as
// JSON lines and as an in-toto bundle) and checks it as an auditor holding
// only the stack's data/policy.yaml would: audit.VerifySigned proves every
// envelope (want, by role) and the orchestrator's seal over the chain, the
// real `starter audit --verify FILE --policy FILE` passes it (exit 0) and
// refuses it cut (exit 3), a re-chained copy is refused naming the seal, and
// every line of the bundle verifies on its own.
func (s *stackT) checkSigned(id string, res api.ReleaseResult, want envelopes) {
	t := s.t
	dir := t.TempDir()
	export, bundle := filepath.Join(dir, "trail.jsonl"), filepath.Join(dir, "trail.intoto.jsonl")
	out, code := s.starter("", "audit", id, "--export", export, "--intoto", bundle)
	require.Equal(t, 0, code, out)
	data, err := os.ReadFile(export)
	require.NoError(t, err)
	entries := readEntries(t, data)

	rep, err := audit.VerifySigned(bytes.NewReader(data), s.Ring)
	require.NoError(t, err, "the exported trail of %s verifies with the stack's policy keys", id)
	assert.Equal(t, len(entries), rep.Entries)
	assert.Equal(t, res.AuditHead, rep.Head, "the release's audit head is the sealed chain's")
	assert.Equal(t, id, rep.Release)
	assert.Equal(t, res.PolicyHash, rep.PolicySHA256, "every fact is bound to the pinned policy")
	assert.Equal(t, map[string]int(want), rep.Envelopes, "envelopes verified by signing role")
	checkSeal(t, entries, rep, res.Status)

	s.checkStarterVerify(dir, data, rep)
	checkRechained(t, entries, s.Ring)
	s.checkBundle(bundle, rep)
	s.checkPrincipals(id, dir)
}

// checkPrincipals runs `starter audit RELEASE --principals` with the
// server's authorization file (exit 0: every event by its owner), then with
// a copy where the build and review identities swapped roles: the events of
// the Build (or, for a promotion, Review) activity are then named (exit 3).
func (s *stackT) checkPrincipals(id, dir string) {
	t := s.t
	config := s.Local.ServerConfigFile()
	out, code := s.starter("", "audit", id, "--principals", config)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "ok: every attested event came from the role that owns it")
	data, err := os.ReadFile(config)
	require.NoError(t, err)
	swapped := strings.NewReplacer("role: build", "role: review", "role: review", "role: build").Replace(string(data))
	require.NotEqual(t, string(data), swapped)
	liar := filepath.Join(dir, "swapped.yaml")
	require.NoError(t, os.WriteFile(liar, []byte(swapped), 0o644))
	out, code = s.starter("", "audit", id, "--principals", liar)
	assert.Equal(t, 3, code, out)
	assert.Contains(t, out, "NOT BY ITS OWNER: ")
	// Build's events (Review's, for a promotion: it builds nothing).
	assert.Regexp(t, `by foureyes-(build \(role review\), want role build|review \(role build\), want role review)`, out)
}

// checkSeal: the last entry is the orchestrator role's seal over the rest.
func checkSeal(t *testing.T, entries []audit.Entry, rep audit.Report, status string) {
	last, before := entries[len(entries)-1], entries[len(entries)-2]
	assert.Equal(t, audit.EventSealed, last.Type)
	assert.Equal(t, "ok", last.Outcome)
	assert.Equal(t, before.Hash, rep.Seal.Head, "the seal signs the head before it")
	assert.Equal(t, len(entries)-1, rep.Seal.Entries)
	assert.Equal(t, status, rep.Seal.Status)
	assert.True(t, strings.HasPrefix(rep.Seal.Sealer, "foureyes-orchestrator@"), "sealed by %q", rep.Seal.Sealer)
	assert.NotEmpty(t, rep.Seal.KeyID)
	assert.Equal(t, audit.EventReleaseEnded, before.Type, "the release ends, then the seal")
}

// checkStarterVerify runs `starter audit --verify FILE --policy FILE` on the
// whole export (exit 0, saying what it proved), on the export cut before its
// seal and cut in the middle (exit 3, each naming the line that fails), and
// shows that the hash-only check (--chain-only) would have let the cut pass.
func (s *stackT) checkStarterVerify(dir string, data []byte, rep audit.Report) {
	t := s.t
	pol := s.Local.PolicyFile()
	whole := filepath.Join(dir, "whole.jsonl")
	require.NoError(t, os.WriteFile(whole, data, 0o644))
	out, code := s.starter("", "audit", "--verify", whole, "--policy", pol)
	require.Equal(t, 0, code, "the whole export passes: %s", out)
	assert.Contains(t, out, "ok: ")
	assert.Contains(t, out, "sealed: by orchestrator key "+rep.Seal.KeyID)
	assert.Contains(t, out, "release "+rep.Release+" under policy sha256:"+rep.PolicySHA256+"\n",
		"the policy given is the one the release pinned")

	lines := bytes.SplitAfter(bytes.TrimRight(data, "\n"), []byte("\n"))
	n := len(lines)
	for _, keep := range []int{n - 1, n / 2} {
		cut := filepath.Join(dir, "cut.jsonl")
		require.NoError(t, os.WriteFile(cut, bytes.Join(lines[:keep], nil), 0o644))
		out, code := s.starter("", "audit", "--verify", cut, "--policy", pol)
		assert.Equal(t, 3, code, "an export cut after entry %d of %d is refused: %s", keep, n, out)
		assert.Contains(t, out, "without an audit_sealed entry", "cut after entry %d", keep)
		out, code = s.starter("", "audit", "--verify", cut, "--chain-only")
		assert.Equal(t, 0, code, "--chain-only checks the hashes only: %s", out)
		assert.Contains(t, out, "signatures and the seal were NOT checked")
	}
}

// checkRechained: entries removed and the chain rebuilt over the rest keeps
// every hash link, and only the seal catches it.
func checkRechained(t *testing.T, entries []audit.Entry, ring attest.KeyRing) {
	var c audit.Chain
	for i, e := range entries {
		if i == len(entries)/2 {
			continue // the entry a forger wants gone
		}
		c.Append(e)
	}
	var buf bytes.Buffer
	require.NoError(t, audit.Export(&buf, c.Entries()))
	_, err := audit.Verify(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err, "re-chained, the hash chain holds")
	_, err = audit.VerifySigned(bytes.NewReader(buf.Bytes()), ring)
	require.Error(t, err, "a re-chained trail is refused")
	assert.Contains(t, err.Error(), "entries were removed and re-chained")
}

// predicateRoles: the role that signs each kind of fact.
var predicateRoles = map[string]string{
	attest.PredicateProvenance: attest.RoleBuild,
	attest.PredicateReview:     attest.RoleReview,
	attest.PredicateDecision:   attest.RoleApproval,
	attest.PredicateCancel:     attest.RoleApproval,
	attest.PredicateDeploy:     attest.RoleDeploy,
	attest.PredicateSeal:       attest.RoleOrchestrator,
}

// checkBundle: the in-toto bundle holds one DSSE envelope per verified
// envelope of the trail, in order, each verifying on its own with the key of
// the role that owns its predicate type; the seal comes last.
func (s *stackT) checkBundle(file string, rep audit.Report) {
	t := s.t
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	byRole := map[string]int{}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for sc.Scan() {
		pt := predicateType(t, sc.Bytes())
		role, ok := predicateRoles[pt]
		require.True(t, ok, "bundle line of predicate type %q", pt)
		_, err := s.Ring.Verify(attest.Envelope(bytes.Clone(sc.Bytes())), role, pt)
		require.NoError(t, err, "bundle line %d (%s)", len(byRole), pt)
		byRole[role]++
		last = pt
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, rep.Envelopes, byRole, "the bundle holds the trail's envelopes")
	assert.Equal(t, attest.PredicateSeal, last, "the bundle ends with the seal")
}

// predicateType reads a DSSE envelope's statement type without trusting it
// (the signature is checked against the role that type belongs to).
func predicateType(t *testing.T, line []byte) string {
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
	}
	require.NoError(t, json.Unmarshal(line, &env))
	require.Equal(t, attest.PayloadType, env.PayloadType)
	body, err := base64.StdEncoding.DecodeString(env.Payload)
	require.NoError(t, err)
	var st struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
	}
	require.NoError(t, json.Unmarshal(body, &st))
	require.Equal(t, "https://in-toto.io/Statement/v1", st.Type)
	return st.PredicateType
}

func readEntries(t *testing.T, data []byte) []audit.Entry {
	var entries []audit.Entry
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var e audit.Entry
		require.NoError(t, json.Unmarshal(line, &e))
		entries = append(entries, e)
	}
	require.GreaterOrEqual(t, len(entries), 2)
	return entries
}
