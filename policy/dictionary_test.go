package policy

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/internal/figures"
)

// TestSampleDictionaryIsFrozen: histories pinned their policy compressed
// with this dictionary; a changed byte would make them unreadable.
func TestSampleDictionaryIsFrozen(t *testing.T) {
	sum := sha256.Sum256(sampleV1)
	assert.Equal(t, "342501d4ac5691ade135e3e9e5db31c88248256ed8037eef82ae9d9e13068f70", hex.EncodeToString(sum[:]),
		"policy/dict/sample-v1.yaml is part of recorded histories: add a new dictionary instead")
}

// withStackKeys is the sample policy as the stack composes it: the sample
// followed by a keys: section of fresh keys (internal/devstack).
func withStackKeys(t *testing.T, base []byte) []byte {
	var b bytes.Buffer
	b.Write(base)
	b.WriteString("\n# Added by the stack: each signing role's public key. The private key\n" +
		"# (ROLE.key in the stack's key folder) is given to that role only.\nkeys:\n")
	for _, role := range []string{"orchestrator", "build", "review", "approval", "deploy"} {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		fmt.Fprintf(&b, "  %s: [%q]\n", role, "ed25519:"+base64.StdEncoding.EncodeToString(pub))
	}
	_, err := Parse("composed", b.Bytes())
	require.NoError(t, err)
	return b.Bytes()
}

// TestDictionaryRoundTrip: both compressed forms give the file back, byte
// for byte; the dictionary form is the smaller for the stack's policy and
// for one written without the sample's comments.
func TestDictionaryRoundTrip(t *testing.T) {
	sample, err := os.ReadFile("../deployments/policy.yaml")
	require.NoError(t, err)
	bare := regexp.MustCompile(`(?m)^\s*#.*\n|\s+#.*$`).ReplaceAll(sample, nil)
	for name, data := range map[string][]byte{"the stack's policy": withStackKeys(t, sample),
		"the sample without comments":                        withStackKeys(t, bare),
		"the sample without comments, other tokens and keys": withStackKeys(t, freshSecrets(bare))} {
		gz, err := Compress(data)
		require.NoError(t, err)
		dict, err := CompressWithDictionary(data)
		require.NoError(t, err)
		assert.Less(t, len(dict), len(gz), name)
		for _, c := range [][]byte{gz, dict} {
			back, err := DecompressPinned(c)
			require.NoError(t, err, name)
			require.Equal(t, data, back, name)
		}
		figures.Report(t, "pinned policy, %s: %d B, gzip %d B, DEFLATE with dictionary %s %d B",
			name, len(data), len(gz), DictionarySampleV1, len(dict))
	}
}

// freshSecrets is data with every token hash and SSH key replaced by
// random ones of the same form: what the dictionary cannot know.
func freshSecrets(data []byte) []byte {
	random := func(n int) []byte { b := make([]byte, n); _, _ = rand.Read(b); return b }
	data = regexp.MustCompile(`[0-9a-f]{64}`).ReplaceAllFunc(data, func([]byte) []byte {
		return []byte(hex.EncodeToString(random(32)))
	})
	return regexp.MustCompile(`AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}`).ReplaceAllFunc(data, func([]byte) []byte {
		wire := append([]byte("\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20"), random(32)...)
		return []byte(base64.StdEncoding.EncodeToString(wire))
	})
}

// TestDecompressPinnedRefusesBombsAndJunk: a LoadPolicy answer is not
// trusted, in either form.
func TestDecompressPinnedRefusesBombsAndJunk(t *testing.T) {
	bomb, err := CompressWithDictionary(bytes.Repeat([]byte{'a'}, MaxFileBytes+1))
	require.NoError(t, err)
	_, err = DecompressPinned(bomb)
	assert.ErrorContains(t, err, "more than 4194304 bytes uncompressed")
	exact, err := CompressWithDictionary(bytes.Repeat([]byte{'a'}, MaxFileBytes))
	require.NoError(t, err)
	_, err = DecompressPinned(exact)
	assert.NoError(t, err)
	_, err = DecompressPinned([]byte("version: 1\n"))
	assert.ErrorContains(t, err, "compressed policy (DEFLATE, dictionary sample-v1)")
	cut, err := CompressWithDictionary([]byte("version: 1\n"))
	require.NoError(t, err)
	_, err = DecompressPinned(cut[:len(cut)-2])
	assert.ErrorContains(t, err, "unexpected EOF")
	gzBomb, err := Compress(bytes.Repeat([]byte{'a'}, MaxFileBytes+1))
	require.NoError(t, err)
	_, err = DecompressPinned(gzBomb)
	assert.ErrorContains(t, err, "more than", "a gzip answer is bounded too")
}
