package activities

import (
	"bufio"
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// A commit's author and committer fields are claims anyone can write; its
// signature, checked here against the keys of the build role's own policy,
// is the only proof of who made it. git is not asked: its verdict depends
// on the host's configuration (gpg.ssh.allowedSignersFile, ssh-keygen), the
// build role's depends on the policy alone. TestSignaturesAgreeWithGit
// checks that both agree.

// commitSignature is the verdict on one commit's signature.
type commitSignature struct {
	status string // attest.Signature*
	signer string // identity, when verified
	why    string // what was wrong, for people
}

// signatureHeaders are the headers git keeps a commit's signature in (SHA-1
// and SHA-256 repositories).
var signatureHeaders = []string{"gpgsig", "gpgsig-sha256"}

// splitSignature separates a raw commit object into its signature and the
// payload that was signed: the object without the signature header and its
// continuation lines, as git itself rebuilds it.
func splitSignature(obj []byte) (sig, payload []byte) {
	head, body, _ := bytes.Cut(obj, []byte("\n\n"))
	var out, s bytes.Buffer
	inSig := false
	for _, line := range bytes.SplitAfter(head, []byte("\n")) {
		switch {
		case inSig && len(line) > 0 && line[0] == ' ':
			s.Write(line[1:])
			continue
		case isSignatureHeader(line) && s.Len() == 0:
			inSig = true
			s.Write(line[bytes.IndexByte(line, ' ')+1:])
			continue
		}
		inSig = false
		out.Write(line)
	}
	if !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
		out.WriteByte('\n')
	}
	out.WriteByte('\n')
	out.Write(body)
	return s.Bytes(), out.Bytes()
}

func isSignatureHeader(line []byte) bool {
	for _, h := range signatureHeaders {
		if bytes.HasPrefix(line, []byte(h+" ")) {
			return true
		}
	}
	return false
}

// verifyCommit judges one raw commit object's signature against pol.
func verifyCommit(obj []byte, pol *policy.Policy) commitSignature {
	sig, payload := splitSignature(obj)
	switch armor := string(bytes.TrimSpace(sig)); {
	case armor == "":
		return commitSignature{status: attest.SignatureUnsigned, why: "not signed"}
	case strings.HasPrefix(armor, "-----BEGIN PGP SIGNATURE-----"):
		return unsupported("a GPG signature: unsupported, only SSH signatures (git config gpg.format ssh) are verified against the policy's keys")
	case !strings.HasPrefix(armor, "-----BEGIN SSH SIGNATURE-----"):
		return unsupported("an X.509 or unknown kind of signature: unsupported, only SSH signatures are verified")
	}
	if fp, ok := sha1RSA(bytes.TrimSpace(sig)); ok {
		return unsupported("an ssh-rsa signature (SHA-1) by " + fp + ": refused, SHA-1 is broken (sign with ssh-ed25519)")
	}
	s, err := sshsig.Unarmor(bytes.TrimSpace(sig))
	if err != nil {
		return commitSignature{status: attest.SignatureBad, why: "unreadable SSH signature: " + err.Error()}
	}
	return verifySSH(s, payload, pol)
}

// sha1RSA reports whether an armored SSH signature is ssh-rsa, which signs
// with SHA-1 (and the signing key's fingerprint). It is read here, before
// any library, so that the refusal says why whatever the library does.
func sha1RSA(armor []byte) (string, bool) {
	block, _ := pem.Decode(armor)
	if block == nil {
		return "", false
	}
	var blob struct {
		Magic                                    [6]byte
		Version                                  uint32
		PublicKey, Namespace, Reserved, HashAlgo string
		Signature                                []byte
	}
	var sig ssh.Signature
	if ssh.Unmarshal(block.Bytes, &blob) != nil || ssh.Unmarshal(blob.Signature, &sig) != nil || sig.Format != ssh.KeyAlgoRSA {
		return "", false
	}
	fp := "an RSA key"
	if pub, err := ssh.ParsePublicKey([]byte(blob.PublicKey)); err == nil {
		fp = ssh.FingerprintSHA256(pub)
	}
	return fp, true
}

func unsupported(why string) commitSignature {
	return commitSignature{status: attest.SignatureUnsupported, why: why}
}

// verifySSH checks an SSH signature over payload: git's namespace, no SHA-1
// (ssh-rsa signs with SHA-1), valid, and by a key of a person of the policy.
func verifySSH(s *sshsig.Signature, payload []byte, pol *policy.Policy) commitSignature {
	fp := ssh.FingerprintSHA256(s.PublicKey)
	if s.Namespace != policy.GitNamespace {
		return commitSignature{status: attest.SignatureBad, why: fmt.Sprintf("signed in namespace %q, not git's", s.Namespace)}
	}
	if err := sshsig.Verify(bytes.NewReader(payload), s, s.PublicKey, s.HashAlgorithm, policy.GitNamespace); err != nil {
		return commitSignature{status: attest.SignatureBad, why: "the signature by " + fp +
			" does not verify for this commit (changed after signing, or another commit's signature): " + err.Error()}
	}
	id, ok := pol.CommitSigner(s.PublicKey)
	if !ok {
		return commitSignature{status: attest.SignatureUnknownKey, why: "signed by " + fp + ", a key no person of the policy lists"}
	}
	return commitSignature{status: attest.SignatureVerified, signer: id}
}

// commitObjects reads the raw objects of the commits shas, in one git.
func (m *mirror) commitObjects(ctx context.Context, shas []string) (map[string][]byte, error) {
	out, err := m.g.runInput(ctx, m.dir, strings.Join(shas, "\n")+"\n", "cat-file", "--batch")
	if err != nil {
		return nil, err
	}
	objs := map[string][]byte{}
	r := bufio.NewReader(strings.NewReader(out))
	for range shas {
		hdr, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("git cat-file --batch: %w", err)
		}
		f := strings.Fields(hdr)
		if len(f) != 3 || f[1] != "commit" {
			return nil, fmt.Errorf("git cat-file --batch: %q is not a commit", strings.TrimSpace(hdr))
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("git cat-file --batch: %q", strings.TrimSpace(hdr))
		}
		obj := make([]byte, size+1) // the object and git's newline after it
		if _, err := io.ReadFull(r, obj); err != nil {
			return nil, fmt.Errorf("git cat-file --batch: %w", err)
		}
		objs[f[0]] = obj[:size]
	}
	return objs, nil
}

// signatures judges every commit of the list.
func (m *mirror) signatures(ctx context.Context, list []commitInfo, pol *policy.Policy) (map[string]commitSignature, error) {
	shas := make([]string, len(list))
	for i, c := range list {
		shas[i] = c.sha
	}
	objs, err := m.commitObjects(ctx, shas)
	if err != nil {
		return nil, sourceFailure("reading the change's commits", err)
	}
	out := make(map[string]commitSignature, len(list))
	for _, sha := range shas {
		out[sha] = verifyCommit(objs[sha], pol)
	}
	return out, nil
}

// judgeChange maps the change's emails and signers to identities and
// refuses what the policy does not let through: an unproven commit where
// commits must be signed, and a change whose authors leave a gate short of
// its quorum (it would otherwise wait at a gate nobody may sign).
func judgeChange(pol *policy.Policy, in api.BuildInput, ch *attest.Change) error {
	ids, unmapped := pol.MapEmails(ch.Emails)
	ch.Identities = nonNil(policy.Union(ids, ch.Signers))
	ch.Unmapped = nonNil(unmapped)
	if pol.CommitsMustBeSigned(in.Service, in.Environment) {
		if err := allSigned(ch, in); err != nil {
			return err
		}
	}
	if err := pol.ApproversLeft(in.Environment, policy.Union(in.Authors, ch.Identities), in.Requester); err != nil {
		return refused("%v (fail closed)", err)
	}
	return nil
}

// allSigned names the first commit without a verified signature.
func allSigned(ch *attest.Change, in api.BuildInput) error {
	for _, c := range ch.Commits {
		if c.Signature != attest.SignatureVerified {
			return refused("commit %s (%q, author %s) is %s: %s; %s in %s takes only commits signed by a key of "+
				"a person of the policy (commits: signed; fail closed)", c.SHA, c.Subject, c.Author, c.Signature, c.Why,
				in.Service, in.Environment)
		}
	}
	if ch.Unproven > 0 { // beyond the commits the provenance lists
		return refused("%d commits of the change are not signed by a person of the policy; %s in %s takes only "+
			"signed commits (commits: signed; fail closed)", ch.Unproven, in.Service, in.Environment)
	}
	return nil
}
