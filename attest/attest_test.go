package attest_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/testkeys"
)

var digest = strings.Repeat("ab", 32)

func decision(t *testing.T, role string) attest.Envelope {
	t.Helper()
	env, err := testkeys.Signer(role).Attest(attest.ArtifactSubject(digest), attest.PredicateDecision,
		attest.Decision{Binding: attest.Binding{Release: "r1", PolicySHA256: "p1"}, RequestID: "bob/1",
			Gate: "review", Verdict: "approve", Identity: "bob"})
	require.NoError(t, err)
	return env
}

func TestVerifiedFactReadsFromTheSignedBytes(t *testing.T) {
	f, err := testkeys.Ring().Verify(decision(t, attest.RoleApproval), attest.RoleApproval, attest.PredicateDecision)
	require.NoError(t, err)
	require.Equal(t, attest.RoleApproval, f.Role)
	require.Equal(t, attest.ArtifactSubject(digest), f.Subject)
	require.NoError(t, f.CheckSubject(attest.ArtifactSubject(digest)))
	var d attest.Decision
	require.NoError(t, f.Decode(&d))
	require.Equal(t, "bob", d.Identity)
	require.NoError(t, d.Binding.Check(attest.Binding{Release: "r1", PolicySHA256: "p1"}))
	require.Contains(t, string(f.Payload), `"predicateType"`)
}

// rewrite changes the envelope's JSON with fn and re-encodes it.
func rewrite(t *testing.T, env attest.Envelope, fn func(e *dsse.Envelope)) attest.Envelope {
	t.Helper()
	var e dsse.Envelope
	require.NoError(t, json.Unmarshal(env, &e))
	fn(&e)
	out, err := json.Marshal(e)
	require.NoError(t, err)
	return out
}

func TestEveryVerificationBranch(t *testing.T) {
	good := decision(t, attest.RoleApproval)
	swapIdentity := func(e *dsse.Envelope) {
		body, _ := base64.StdEncoding.DecodeString(e.Payload)
		body = []byte(strings.Replace(string(body), `"bob"`, `"eve"`, 1))
		e.Payload = base64.StdEncoding.EncodeToString(body)
	}
	cases := []struct {
		name, role, predicate, code string
		env                         attest.Envelope
	}{
		{"no envelope", attest.RoleApproval, attest.PredicateDecision, attest.CodeUnsigned, nil},
		{"JSON null", attest.RoleApproval, attest.PredicateDecision, attest.CodeUnsigned, attest.Envelope("null")},
		{"no signature", attest.RoleApproval, attest.PredicateDecision, attest.CodeUnsigned,
			rewrite(t, good, func(e *dsse.Envelope) { e.Signatures = nil })},
		{"not JSON", attest.RoleApproval, attest.PredicateDecision, attest.CodeMalformed, attest.Envelope("{")},
		{"another payload type", attest.RoleApproval, attest.PredicateDecision, attest.CodeMalformed,
			rewrite(t, good, func(e *dsse.Envelope) { e.PayloadType = "text/plain" })},
		{"payload changed after signing", attest.RoleApproval, attest.PredicateDecision, attest.CodeBadSignature,
			rewrite(t, good, swapIdentity)},
		{"signature bytes changed", attest.RoleApproval, attest.PredicateDecision, attest.CodeBadSignature,
			rewrite(t, good, func(e *dsse.Envelope) { e.Signatures[0].Sig = base64.StdEncoding.EncodeToString(make([]byte, 64)) })},
		{"key the policy does not list", attest.RoleApproval, attest.PredicateDecision, attest.CodeBadSignature,
			decision(t, testkeys.Outsider)},
		{"another role's key", attest.RoleApproval, attest.PredicateDecision, attest.CodeWrongRole,
			decision(t, attest.RoleBuild)},
		{"another kind of fact", attest.RoleApproval, attest.PredicateCancel, attest.CodeWrongType, good},
		{"a role without a key", "nobody", attest.PredicateDecision, attest.CodeNoKey, good},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := testkeys.Ring().Verify(c.env, c.role, c.predicate)
			require.Error(t, err)
			require.Equal(t, c.code, attest.CodeOf(err), err.Error())
		})
	}
}

func TestNotAStatementIsMalformed(t *testing.T) {
	body := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x","predicate":{}}`)
	s := testkeys.Signer(attest.RoleApproval)
	sig, err := s.Sign(nil, dsse.PAE(attest.PayloadType, body))
	require.NoError(t, err)
	id, _ := s.KeyID()
	env, _ := json.Marshal(dsse.Envelope{PayloadType: attest.PayloadType, Payload: base64.StdEncoding.EncodeToString(body),
		Signatures: []dsse.Signature{{KeyID: id, Sig: base64.StdEncoding.EncodeToString(sig)}}})
	_, err = testkeys.Ring().Verify(env, attest.RoleApproval, "x")
	require.Equal(t, attest.CodeMalformed, attest.CodeOf(err), "a statement without subject is refused")
}

func TestBindingAndSubjectMismatches(t *testing.T) {
	f, err := testkeys.Ring().Verify(decision(t, attest.RoleApproval), attest.RoleApproval, attest.PredicateDecision)
	require.NoError(t, err)
	require.Equal(t, attest.CodeMisbound, attest.CodeOf(f.CheckSubject(attest.ArtifactSubject(strings.Repeat("cd", 32)))))
	b := attest.Binding{Release: "r1", PolicySHA256: "p1"}
	require.Equal(t, attest.CodeMisbound, attest.CodeOf(b.Check(attest.Binding{Release: "r2", PolicySHA256: "p1"})))
	require.Equal(t, attest.CodeMisbound, attest.CodeOf(b.Check(attest.Binding{Release: "r1", PolicySHA256: "p2"})))
	var wrong struct{ Identity int }
	require.Equal(t, attest.CodeMalformed, attest.CodeOf(f.Decode(&wrong)))
}

func TestKeysRoundTripAndRefuseBadInput(t *testing.T) {
	dir := t.TempDir()
	pub, err := attest.WriteKeyPair(dir, attest.RoleBuild)
	require.NoError(t, err)
	info, err := os.Stat(filepath.Join(dir, "build.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	s, err := attest.LoadSigner(attest.RoleBuild, filepath.Join(dir, "build.key"))
	require.NoError(t, err)
	require.Equal(t, pub, s.PublicKey())
	_, err = attest.WriteKeyPair(dir, attest.RoleBuild)
	require.ErrorContains(t, err, "refusing to overwrite")
	_, err = attest.WriteKeyPair(dir, "admin")
	require.ErrorContains(t, err, "unknown role")
	_, err = attest.LoadSigner(attest.RoleBuild, "")
	require.ErrorContains(t, err, "FOUREYES_BUILD_SIGNING_KEY_FILE")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.key"), []byte("junk"), 0o600))
	_, err = attest.LoadSigner(attest.RoleBuild, filepath.Join(dir, "junk.key"))
	require.ErrorContains(t, err, "junk.key")
	for _, bad := range []string{"ssh-ed25519 AAAA", "ed25519:!!!", "ed25519:" + base64.StdEncoding.EncodeToString([]byte("short"))} {
		_, err := attest.ParsePublicKey(bad)
		require.Error(t, err, bad)
	}
	_, err = attest.NewKeyRing(map[string][]string{"admin": {pub}})
	require.ErrorContains(t, err, "unknown role")
}
