package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hiddeco/sshsig"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"golang.org/x/crypto/ssh"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/demokeys"
	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/gitrepo"
	"github.com/foureyes/foureyes/policy"
)

// Attacks on who wrote a change (issue 24), each a repository of its own
// that an insider could push: prod takes only commits signed by a person of
// the policy (commits: signed), and the signer of a commit is its author
// whatever git's fields say. Each fails without its defence: the build
// role's signature check (activities/signatures.go), signers among the
// authors, and a first release counting the whole history.

var (
	erinPerson = gitrepo.Person{Name: "Erin Example", Email: "erin@example.com"}
	davePerson = gitrepo.Person{Name: "Dave Example", Email: "dave@example.com"}
)

// commitAttack is one attack's repository: its service and how it is made
// (it returns the commit to release).
type commitAttack struct {
	service, name string
	make          func(r *signingRepo) (string, error)
	// refusedBuild is what the failed release's reason must say; "" when
	// the build goes through and dave's approval must be refused instead.
	refusedBuild string
	// attack (optional) runs the attack instead (promotionShape).
	attack func(a *attackRun, ctx context.Context) error
}

var commitAttacks = []commitAttack{
	{"commit-forged", "author and committer set to erin, signed by dave", func(r *signingRepo) (string, error) {
		return r.commit(erinPerson, "dave")
	}, "", nil},
	{"commit-first", "a first release: dave's commit under erin's typo fix", func(r *signingRepo) (string, error) {
		if _, err := r.commit(davePerson, "dave"); err != nil {
			return "", err
		}
		return r.commit(erinPerson, "erin")
	}, "", nil},
	{"commit-foreign-key", "signed by a key in no policy", func(r *signingRepo) (string, error) {
		return r.commit(devstack.DemoAlice, "mallory")
	}, "is unknown_key: signed by SHA256:", nil},
	{"commit-transplant", "another commit's signature", func(r *signingRepo) (string, error) {
		signed, err := r.commit(devstack.DemoAlice, "alice")
		if err != nil {
			return "", err
		}
		sig, _, err := r.signatureOf(signed)
		if err != nil {
			return "", err
		}
		return r.rewritten(sig)
	}, "does not verify for this commit", nil},
	{"commit-sha1", "a SHA-1 ssh-rsa signature", func(r *signingRepo) (string, error) {
		return r.sha1Signed()
	}, "is unsupported: an ssh-rsa signature (SHA-1)", nil},
	{"commit-gpg", "a GPG signature", func(r *signingRepo) (string, error) {
		return r.rewritten("-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n=abcd\n-----END PGP SIGNATURE-----")
	}, "is unsupported: a GPG signature: unsupported", nil},
	{"commit-promoted", "a promotion of erin's fix whose staging change hides dave's commit", func(r *signingRepo) (string, error) {
		var err error
		if promotedBase, err = r.commit(davePerson, "dave"); err != nil {
			return "", err
		}
		return r.commit(erinPerson, "erin")
	}, "", (*attackRun).promotionShape},
}

// commitHeads are the commits the attacks release, by service.
var commitHeads = map[string]string{}

// makeCommitRepos makes each attack's repository under dir; it returns
// their paths by service.
func makeCommitRepos(dir string) (map[string]string, error) {
	keys := filepath.Join(dir, "keys")
	paths := map[string]string{}
	for _, at := range commitAttacks {
		r, err := gitrepo.Init(filepath.Join(dir, at.service), "main")
		if err != nil {
			return nil, err
		}
		sr := &signingRepo{Repo: r, keys: keys}
		if commitHeads[at.service], err = at.make(sr); err != nil {
			return nil, fmt.Errorf("%s: %w", at.service, err)
		}
		paths[at.service] = r.Dir
	}
	return paths, nil
}

// signingRepo makes commits signed, re-signed and forged.
type signingRepo struct {
	*gitrepo.Repo
	keys string
	n    int
}

func (r *signingRepo) commit(author gitrepo.Person, signer string) (string, error) {
	r.n++
	c := gitrepo.Commit{Author: author, Message: fmt.Sprintf("change %d\n", r.n),
		Files: map[string]string{"main.go": fmt.Sprintf("package main // %d\n", r.n)}}
	if signer != "" {
		key, err := demokeys.WriteFile(r.keys, signer)
		if err != nil {
			return "", err
		}
		c.SigningKey = key
	}
	return r.Commit(c)
}

// signatureOf is a commit's signature armor and its object without it.
func (r *signingRepo) signatureOf(sha string) (string, []byte, error) {
	out, err := exec.Command("git", "-C", r.Dir, "cat-file", "commit", sha).Output()
	if err != nil {
		return "", nil, err
	}
	head, body, _ := bytes.Cut(out, []byte("\n\n"))
	var sig, rest strings.Builder
	for _, line := range strings.SplitAfter(string(head), "\n") {
		switch {
		case strings.HasPrefix(line, "gpgsig "):
			sig.WriteString(strings.TrimPrefix(line, "gpgsig "))
		case strings.HasPrefix(line, " ") && sig.Len() > 0:
			sig.WriteString(line[1:])
		default:
			rest.WriteString(line)
		}
	}
	return sig.String(), []byte(strings.TrimSuffix(rest.String(), "\n") + "\n\n" + string(body)), nil
}

// rewritten makes an unsigned commit by alice and writes it anew with
// armor as its signature (git hash-object): it becomes main's head.
func (r *signingRepo) rewritten(armor string) (string, error) {
	return r.rewrittenWith(func([]byte) (string, error) { return armor, nil })
}

// rewrittenWith is rewritten with the armor sign makes of the payload.
func (r *signingRepo) rewrittenWith(sign func(payload []byte) (string, error)) (string, error) {
	sha, err := r.commit(devstack.DemoAlice, "")
	if err != nil {
		return "", err
	}
	_, payload, err := r.signatureOf(sha)
	if err != nil {
		return "", err
	}
	armor, err := sign(payload)
	if err != nil {
		return "", err
	}
	head, body, _ := bytes.Cut(payload, []byte("\n\n"))
	obj := string(head) + "\ngpgsig " + strings.ReplaceAll(strings.TrimSpace(armor), "\n", "\n ") + "\n\n" + string(body)
	cmd := exec.Command("git", "-C", r.Dir, "hash-object", "-t", "commit", "-w", "--stdin")
	cmd.Stdin = strings.NewReader(obj)
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	forged := strings.TrimSpace(string(out))
	_, err = r.Git(nil, "update-ref", "HEAD", forged)
	return forged, err
}

// sha1Signed is an unsigned commit re-written with a valid ssh-rsa (SHA-1)
// signature by an RSA key of the attacker's.
func (r *signingRepo) sha1Signed() (string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	signer, err := ssh.NewSignerFromKey(k)
	if err != nil {
		return "", err
	}
	return r.rewrittenWith(func(payload []byte) (string, error) {
		sig, err := sshsig.Sign(bytes.NewReader(payload), signer, sshsig.HashSHA512, "git")
		if err != nil {
			return "", err
		}
		h := sha512.Sum512(payload)
		data := append([]byte("SSHSIG"), ssh.Marshal(struct{ Namespace, Reserved, HashAlgorithm, Hash string }{
			"git", "", "sha512", string(h[:])})...)
		if sig.Signature, err = signer.(ssh.AlgorithmSigner).SignWithAlgorithm(rand.Reader, data, ssh.KeyAlgoRSA); err != nil {
			return "", err
		}
		return string(sshsig.Armor(sig)), nil
	})
}

// signedCommits runs every attack: a refused build fails the release with
// the reason; a build that goes through leaves dave refused as a signer.
func (a *attackRun) signedCommits(ctx context.Context, t *testing.T) {
	for _, at := range commitAttacks {
		a.attempt(t, "signed commits", at.name, func() error {
			if at.attack != nil {
				return at.attack(a, ctx)
			}
			id, err := a.startUndeclared(ctx, at.service, commitHeads[at.service])
			if err != nil {
				return err
			}
			a.aim(id)
			if at.refusedBuild != "" {
				return a.buildRefused(ctx, id, at.refusedBuild)
			}
			return a.signerRefused(ctx, id)
		})
	}
}

// startUndeclared starts a prod release that declares no author: git alone
// says who wrote it.
func (a *attackRun) startUndeclared(ctx context.Context, service, commit string) (string, error) {
	id := releaseID(service)
	_, err := a.s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id,
		TaskQueue: api.QueueOrchestrator, WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL},
		api.WorkflowRelease, api.ReleaseRequest{Service: service, Environment: "prod", Commit: commit,
			Requester: "rita", Title: "attack: " + service})
	return id, err
}

func (a *attackRun) buildRefused(ctx context.Context, id, want string) error {
	res, err := a.result(ctx, id)
	switch {
	case err != nil:
		return err
	case res.Status != api.StatusFailed || !strings.Contains(res.Reason, want) ||
		!strings.Contains(res.Reason, "commits: signed; fail closed"):
		return fmt.Errorf("want failed naming %q under commits: signed, got %s: %s", want, res.Status, res.Reason)
	}
	return nil
}

// signerRefused: bob reviews; dave, who signed a commit of the change (under
// erin's name, or his own under erin's fix), is refused at the approval gate.
func (a *attackRun) signerRefused(ctx context.Context, id string) error {
	if err := a.s.WaitStatus(ctx, id, api.StatusAwaitingReview); err != nil {
		return err
	}
	if err := a.legit(ctx, id, "review", "bob"); err != nil {
		return err
	}
	if err := a.s.WaitStatus(ctx, id, api.StatusAwaitingApproval); err != nil {
		return err
	}
	code, ans, err := a.s.decide(ctx, id, "approval", "approve", "dave", fmt.Sprintf("dave-%d", time.Now().UnixNano()))
	if err != nil {
		return err
	}
	// Under erin's name he is told he signed it; as the named author of his
	// own commit, that he authored it: the same rule, author.
	if code != http.StatusForbidden || ans.Rule != policy.RuleAuthor ||
		(ans.Reason != "you signed a commit of this change" && ans.Reason != "you authored this change") {
		return fmt.Errorf("dave approving a change he signed: want 403 by the author rule, got %d %+v", code, ans)
	}
	return nil
}
