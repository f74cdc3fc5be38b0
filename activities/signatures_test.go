package activities

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hiddeco/sshsig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/demokeys"
	"github.com/foureyes/foureyes/internal/gitrepo"
	"github.com/foureyes/foureyes/policy"
)

// signedPolicyYAML: alice and bob list their demo keys; prod takes only
// signed commits. mallory's key is in no policy.
func signedPolicyYAML() string {
	y := fmt.Sprintf(testPolicyYAML, "")
	for _, id := range []string{"alice", "bob", "carol", "dave"} {
		y = strings.Replace(y, "{id: "+id+", email: "+id+"@example.com,",
			fmt.Sprintf("{id: %s, email: %s@example.com, ssh: [%q],", id, id, demokeys.AuthorizedKey(id)), 1)
	}
	return y
}

// sigRepo is a repository whose commits the tests sign, craft and forge.
type sigRepo struct {
	*gitrepo.Repo
	keys string // folder of the demo keys' private files
	n    int
}

func newSigRepo(t *testing.T) *sigRepo {
	t.Helper()
	repo, err := gitrepo.Init(filepath.Join(t.TempDir(), "payments"), "main")
	require.NoError(t, err)
	keys := t.TempDir()
	for _, id := range []string{"alice", "bob", "carol", "dave", "mallory"} {
		_, err := demokeys.WriteFile(keys, id)
		require.NoError(t, err)
	}
	return &sigRepo{Repo: repo, keys: keys}
}

// commit makes a commit by author, signed by signer's demo key ("": unsigned).
func (r *sigRepo) commit(t *testing.T, author gitrepo.Person, signer string) string {
	t.Helper()
	r.n++
	c := gitrepo.Commit{Author: author, Message: fmt.Sprintf("change %d\n", r.n),
		Files: map[string]string{"main.go": fmt.Sprintf("package main // %d\n", r.n)}}
	if signer != "" {
		c.SigningKey = filepath.Join(r.keys, signer)
	}
	sha, err := r.Commit(c)
	require.NoError(t, err)
	return sha
}

// object is the raw commit object of sha.
func (r *sigRepo) object(t *testing.T, sha string) []byte {
	t.Helper()
	cmd := exec.Command("git", "cat-file", "commit", sha)
	cmd.Dir = r.Dir
	out, err := cmd.Output()
	require.NoError(t, err)
	return out
}

// withSignature writes payload (an unsigned commit object) with armor as
// its gpgsig header, makes it HEAD and returns its id: what anyone can do
// with git hash-object.
func (r *sigRepo) withSignature(t *testing.T, payload []byte, armor string) string {
	t.Helper()
	head, body, _ := bytes.Cut(payload, []byte("\n\n"))
	hdr := "gpgsig " + strings.ReplaceAll(strings.TrimSpace(armor), "\n", "\n ")
	obj := string(head) + "\n" + hdr + "\n\n" + string(body)
	cmd := exec.Command("git", "hash-object", "-t", "commit", "-w", "--stdin")
	cmd.Dir, cmd.Stdin = r.Dir, strings.NewReader(obj)
	out, err := cmd.Output()
	require.NoError(t, err)
	sha := strings.TrimSpace(string(out))
	_, err = r.Git(nil, "update-ref", "HEAD", sha)
	require.NoError(t, err)
	return sha
}

// crafted makes an unsigned commit and re-writes it signed by signer in
// namespace (Go's sshsig, any key type).
func (r *sigRepo) crafted(t *testing.T, signer ssh.Signer, namespace string) string {
	t.Helper()
	payload := r.object(t, r.commit(t, alicePerson, ""))
	sig, err := sshsig.Sign(bytes.NewReader(payload), signer, sshsig.HashSHA512, namespace)
	require.NoError(t, err)
	return r.withSignature(t, payload, string(sshsig.Armor(sig)))
}

// transplanted makes an unsigned commit carrying the signature of signed.
func (r *sigRepo) transplanted(t *testing.T, signed string) string {
	t.Helper()
	sig, _ := splitSignature(r.object(t, signed))
	payload := r.object(t, r.commit(t, alicePerson, ""))
	return r.withSignature(t, payload, string(sig))
}

func (r *sigRepo) gpgSigned(t *testing.T) string {
	t.Helper()
	payload := r.object(t, r.commit(t, alicePerson, ""))
	return r.withSignature(t, payload, "-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n=abcd\n-----END PGP SIGNATURE-----")
}

var (
	alicePerson = gitrepo.Person{Name: "Alice", Email: "alice@example.com"}
	bobPerson   = gitrepo.Person{Name: "Bob", Email: "bob@example.com"}
)

func rsaSigner(t *testing.T) ssh.AlgorithmSigner {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	s, err := ssh.NewSignerFromKey(k)
	require.NoError(t, err)
	return s.(ssh.AlgorithmSigner)
}

// sha1RSA makes an unsigned commit and re-writes it with a valid sshsig
// signature whose RSA signature is ssh-rsa, SHA-1 (which sshsig.Sign and
// ssh-keygen no longer make, but an attacker can).
func (r *sigRepo) sha1RSA(t *testing.T, k ssh.AlgorithmSigner) string {
	t.Helper()
	payload := r.object(t, r.commit(t, alicePerson, ""))
	sig, err := sshsig.Sign(bytes.NewReader(payload), k, sshsig.HashSHA512, "git")
	require.NoError(t, err)
	h := sha512.Sum512(payload)
	data := append([]byte("SSHSIG"), ssh.Marshal(struct{ Namespace, Reserved, HashAlgorithm, Hash string }{
		"git", "", "sha512", string(h[:])})...)
	sig.Signature, err = k.SignWithAlgorithm(rand.Reader, data, ssh.KeyAlgoRSA)
	require.NoError(t, err)
	require.NoError(t, sshsig.Verify(bytes.NewReader(payload), sig, sig.PublicKey, sig.HashAlgorithm, "git"), "a valid SHA-1 signature")
	return r.withSignature(t, payload, string(sshsig.Armor(sig)))
}

// verdicts reads every commit of the repository the way the build role
// does (its mirror, its policy) and returns each commit's verdict.
func verdicts(t *testing.T, dir string, pol *policy.Policy) ([]commitInfo, map[string]commitSignature) {
	t.Helper()
	ctx := context.Background()
	m, err := openMirror(ctx, gitRunner{}, t.TempDir(), dir)
	require.NoError(t, err)
	defer m.release()
	require.NoError(t, m.fetchAll(ctx))
	list, err := m.commits(ctx, "refs/foureyes/heads/main")
	require.NoError(t, err)
	sigs, err := m.signatures(ctx, list, pol)
	require.NoError(t, err)
	return list, sigs
}

// TestSignaturesAgreeWithGit cross-checks every verdict of the build role
// with git verify-commit, given the allowed signers file generated from
// the same policy: signed by alice, bob under alice's name, carol, a key
// in no policy, unsigned, another commit's signature, SHA-1 ssh-rsa, GPG,
// another namespace.
func TestSignaturesAgreeWithGit(t *testing.T) {
	pol, err := policy.Parse("policy.yaml", []byte(signedPolicyYAML()))
	require.NoError(t, err)
	allowed := filepath.Join(t.TempDir(), "allowed_signers")
	require.NoError(t, os.WriteFile(allowed, []byte(pol.AllowedSigners()), 0o644))
	r := newSigRepo(t)
	rsaKey := rsaSigner(t)
	want := map[string]string{}
	for i := 0; i < 27; i++ {
		var sha, status string
		switch i % 9 {
		case 0:
			sha, status = r.commit(t, alicePerson, "alice"), attest.SignatureVerified
		case 1:
			sha, status = r.commit(t, alicePerson, "bob"), attest.SignatureVerified
		case 2:
			sha, status = r.commit(t, bobPerson, "carol"), attest.SignatureVerified
		case 3:
			sha, status = r.commit(t, alicePerson, "mallory"), attest.SignatureUnknownKey
		case 4:
			sha, status = r.commit(t, alicePerson, ""), attest.SignatureUnsigned
		case 5:
			sha, status = r.transplanted(t, r.commit(t, alicePerson, "alice")), attest.SignatureBad
			want[strings.TrimSpace(mustGit(t, r, "rev-parse", sha+"^"))] = attest.SignatureVerified
		case 6:
			sha, status = r.sha1RSA(t, rsaKey), attest.SignatureUnsupported
		case 7:
			sha, status = r.gpgSigned(t), attest.SignatureUnsupported
		case 8:
			sha, status = r.crafted(t, demokeys.Signer("alice"), "file"), attest.SignatureBad
		}
		want[sha] = status
	}
	list, sigs := verdicts(t, r.Dir, pol)
	require.Len(t, list, len(want))
	require.GreaterOrEqual(t, len(list), 20)
	agreed := 0
	for _, c := range list {
		got := sigs[c.sha]
		assert.Equal(t, want[c.sha], got.status, "commit %s: %s", c.sha, got.why)
		out, gitErr := exec.Command("git", "-C", r.Dir, "-c", "gpg.ssh.allowedSignersFile="+allowed,
			"verify-commit", c.sha).CombinedOutput()
		gitGood := gitErr == nil
		if assert.Equal(t, gitGood, got.status == attest.SignatureVerified, "commit %s: git says %q, we say %s (%s)", c.sha, out, got.status, got.why) {
			agreed++
		}
		if gitGood {
			h := pol.Humans[slicesIndex(pol, got.signer)]
			assert.Contains(t, string(out), "Good \"git\" signature for "+h.Email, "git names the same signer")
		}
	}
	t.Logf("git verify-commit agreed on %d of %d commits", agreed, len(list))
}

func slicesIndex(pol *policy.Policy, id string) int {
	for i, h := range pol.Humans {
		if h.ID == id {
			return i
		}
	}
	return 0
}

func mustGit(t *testing.T, r *sigRepo, args ...string) string {
	t.Helper()
	out, err := r.Git(nil, args...)
	require.NoError(t, err)
	return out
}
