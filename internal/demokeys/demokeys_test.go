package demokeys

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/policy"
)

func TestKeysDifferPerIdentityAndStay(t *testing.T) {
	require.Equal(t, AuthorizedKey("bob"), AuthorizedKey("bob"))
	require.NotEqual(t, AuthorizedKey("bob"), AuthorizedKey("carol"))
	require.True(t, strings.HasPrefix(AuthorizedKey("bob"), "ssh-ed25519 AAAA"))
	require.True(t, strings.HasSuffix(AuthorizedKey("bob"), " bob@demo"))
}

// ssh-keygen reads the written key and derives the same public key.
func TestWriteFileIsReadBySSHKeygen(t *testing.T) {
	path, err := WriteFile(t.TempDir(), "carol")
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	out, err := exec.Command("ssh-keygen", "-y", "-f", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	fields := strings.Fields(AuthorizedKey("carol"))
	require.Contains(t, string(out), fields[0]+" "+fields[1])
	require.FileExists(t, filepath.Join(filepath.Dir(path), "carol.pub"))
}

// The sample policy lists each demo identity's key as this package derives it.
func TestSamplePolicyListsTheDemoKeys(t *testing.T) {
	p, _, err := policy.Load(filepath.Join("..", "..", "deployments", "policy.yaml"))
	require.NoError(t, err)
	for _, id := range []string{"alice", "bob", "carol", "dave", "erin", "rita", "ci-bot"} {
		keys := p.SSHKeys(id)
		require.Len(t, keys, 1, id)
		require.Equal(t, Signer(id).PublicKey().Marshal(), keys[0].Marshal(), id)
	}
}

// The sample policy lists carol's and dave's demo passkeys as derived here.
func TestSamplePolicyListsTheDemoPasskeys(t *testing.T) {
	p, _, err := policy.Load(filepath.Join("..", "..", "deployments", "policy.yaml"))
	require.NoError(t, err)
	for _, id := range []string{"carol", "dave"} {
		pk := DemoPasskey(id)
		who, cred, ok := p.WebAuthnCredential(pk.ID)
		require.True(t, ok, id)
		require.Equal(t, id, who)
		require.Equal(t, pk.PublicKey(), cred.PublicKey, id)
		require.Equal(t, "localhost", cred.RPID)
	}
}
