package attest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/demokeys"
)

// OpenSSH's own verifier agrees with foureyes' SSH proofs: ssh-keygen -Y
// verify accepts bob's signature in namespace foureyes, and refuses it in
// another namespace or over other bytes.
func TestSSHProofVerifiesWithSSHKeygen(t *testing.T) {
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen not installed")
	}
	st, err := attest.PersonalStatement(attest.ArtifactSubject(strings.Repeat("d", 64)), attest.PredicatePersonalDecision,
		attest.PersonalDecision{Identity: "bob", Gate: "review", Verdict: "approve", RequestID: "r1", At: time.Unix(0, 0).UTC()})
	require.NoError(t, err)
	p, err := attest.SignSSH(st, demokeys.Signer("bob"))
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(name, s string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(s), 0o600))
		return path
	}
	allowed := write("allowed_signers", "bob "+demokeys.AuthorizedKey("bob")+"\n")
	sig := write("sig", p.SSHSig)
	verify := func(namespace string, msg []byte) error {
		cmd := exec.Command("ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "bob", "-n", namespace, "-s", sig)
		cmd.Stdin = strings.NewReader(string(msg))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("ssh-keygen: %s", out)
		}
		return err
	}
	require.NoError(t, verify("foureyes", st))
	require.Error(t, verify("git", st), "another namespace")
	require.Error(t, verify("foureyes", append([]byte{}, append(st, ' ')...)), "other bytes")
}
