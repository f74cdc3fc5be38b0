package codec_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/codec"
	"github.com/foureyes/foureyes/internal/testkeys"
)

// ring writes key files named ids into a fresh folder and loads them, the
// first active.
func ring(t *testing.T, dir string, ids ...string) *codec.KeyRing {
	t.Helper()
	var paths []string
	for _, id := range ids {
		p, err := codec.WriteKeyFile(dir, id)
		require.NoError(t, err)
		paths = append(paths, p)
	}
	r, err := codec.LoadKeyRing(paths[0], paths[1:])
	require.NoError(t, err)
	return r
}

func TestEncryptedPayloadsCarryNoPlaintextAndNameTheirKey(t *testing.T) {
	c := codec.New(ring(t, t.TempDir(), "payload-1"))
	dc := c.DataConverter()
	secret := "Co-authored-by: Erin Example <erin@example.com>"
	p, err := dc.ToPayload(map[string]string{"message": secret})
	require.NoError(t, err)
	require.Equal(t, map[string][]byte{converter.MetadataEncoding: []byte(codec.EncodingSealed)}, p.Metadata,
		"one metadata entry: the key id is in the sealed data's header")
	require.Equal(t, "payload-1", codec.KeyID(p))
	raw, err := p.Marshal()
	require.NoError(t, err)
	require.NotContains(t, string(raw), "erin@example.com")
	require.NotContains(t, string(raw), "json/plain", "the original encoding is sealed too")

	var back map[string]string
	require.NoError(t, dc.FromPayload(p, &back))
	require.Equal(t, secret, back["message"])
}

func TestSignedEnvelopeKeepsItsExactBytes(t *testing.T) {
	env, err := testkeys.Signer(attest.RoleApproval).Attest(attest.ArtifactSubject(strings.Repeat("ab", 32)),
		attest.PredicateDecision, attest.Decision{Binding: attest.Binding{Release: "r1", PolicySHA256: "p1"},
			RequestID: "bob/1", Gate: "review", Verdict: "approve", Identity: "bob", Comment: "looks right"})
	require.NoError(t, err)
	plainDC := converter.GetDefaultDataConverter()
	plain, err := plainDC.ToPayload(api.SignedRequest{Envelope: env})
	require.NoError(t, err)

	c := codec.New(ring(t, t.TempDir(), "payload-1"))
	enc, err := c.DataConverter().ToPayload(api.SignedRequest{Envelope: env})
	require.NoError(t, err)
	dec, err := c.Decode([]*commonpb.Payload{enc})
	require.NoError(t, err)
	require.True(t, bytes.Equal(plain.Data, dec[0].Data), "the decoded payload is the default converter's, byte for byte")

	var got api.SignedRequest
	require.NoError(t, c.DataConverter().FromPayload(enc, &got))
	require.Equal(t, []byte(env), []byte(got.Envelope))
	f, err := testkeys.Ring().Verify(got.Envelope, attest.RoleApproval, attest.PredicateDecision)
	require.NoError(t, err, "the signature still verifies after encryption")
	require.Equal(t, attest.RoleApproval, f.Role)
}

func TestRotationOldKeyOpensNewKeySeals(t *testing.T) {
	dir := t.TempDir()
	before := codec.New(ring(t, dir, "payload-1"))
	old, err := before.DataConverter().ToPayload("written under key 1")
	require.NoError(t, err)

	after := codec.New(ring(t, dir, "payload-2", "payload-1")) // 2 active, 1 decrypt-only
	var s string
	require.NoError(t, after.DataConverter().FromPayload(old, &s))
	require.Equal(t, "written under key 1", s)
	fresh, err := after.DataConverter().ToPayload("written under key 2")
	require.NoError(t, err)
	require.Equal(t, "payload-2", codec.KeyID(fresh))

	err = before.DataConverter().FromPayload(fresh, &s)
	require.ErrorContains(t, err, `encrypted with key "payload-2", which this key ring does not hold (keys: payload-1)`)
}

func TestPlaintextPayloadsPassThrough(t *testing.T) {
	// Histories recorded before encryption was on still decode.
	p, err := converter.GetDefaultDataConverter().ToPayload("old release")
	require.NoError(t, err)
	var s string
	require.NoError(t, codec.New(ring(t, t.TempDir(), "k")).DataConverter().FromPayload(p, &s))
	require.Equal(t, "old release", s)
}

func TestKeyFileErrorsNameTheFileNotTheKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), mode))
		return p
	}
	short := base64.StdEncoding.EncodeToString([]byte("sixteen bytes!!!"))
	for _, tt := range []struct{ path, want string }{
		{write("k1.key", "not base64!", 0o600), "k1.key: not base64"},
		{write("k2.key", short, 0o600), "k2.key: want a 32-byte AES-256 key, got 16 bytes"},
		{write("k3.key", base64.StdEncoding.EncodeToString(make([]byte, 32)), 0o644), "k3.key: mode -rw-r--r-- lets others read it"},
		{write("noext", "x", 0o600), "noext: name it ID.key"},
		{filepath.Join(dir, "missing.key"), "no such file"},
	} {
		_, err := codec.ReadKeyFile(tt.path)
		require.ErrorContains(t, err, tt.want)
		require.NotContains(t, err.Error(), short)
	}
	p, err := codec.WriteKeyFile(dir, "dup")
	require.NoError(t, err)
	_, err = codec.LoadKeyRing(p, []string{p})
	require.ErrorContains(t, err, `key id "dup" is also`)
	_, err = codec.LoadKeyRing("", nil)
	require.ErrorContains(t, err, "no active payload key file")
}

func TestWriteKeyFileKeepsAnExistingKey(t *testing.T) {
	dir := t.TempDir()
	p, err := codec.WriteKeyFile(dir, "payload-1")
	require.NoError(t, err)
	first, _ := os.ReadFile(p)
	_, err = codec.WriteKeyFile(dir, "payload-1")
	require.NoError(t, err)
	again, _ := os.ReadFile(p)
	require.Equal(t, first, again)
	st, _ := os.Stat(p)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

func TestKeyPrintsAsItsIDOnly(t *testing.T) {
	k, err := codec.ReadKeyFile(func() string { p, _ := codec.WriteKeyFile(t.TempDir(), "payload-9"); return p }())
	require.NoError(t, err)
	require.Equal(t, "payload key payload-9", k.String())
}

// Check seals and opens a payload in the compact form and compares it;
// without a key ring it says so.
func TestCheckSealsAndOpens(t *testing.T) {
	require.NoError(t, codec.New(ring(t, t.TempDir(), "payload-1")).Check())
	require.ErrorContains(t, (*codec.Codec)(nil).Check(), "payload codec: no key ring")
	require.ErrorContains(t, codec.New(nil).Check(), "payload codec: no key ring")
}
