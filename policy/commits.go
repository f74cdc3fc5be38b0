package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Settings of what a change's commits need (environment and service
// "commits"). A git author or committer field is a claim anyone can write;
// only a commit's signature by a key the policy lists proves who made it.
const (
	CommitsAny    = "any"    // unsigned commits build, shown as "authorship unproven" (default)
	CommitsSigned = "signed" // every commit signed by a policy identity's key, else the build fails closed
)

// GitNamespace is the sshsig namespace git signs commits and tags in.
const GitNamespace = "git"

var baselineRE = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// commitSettings checks a service's commits and baseline settings.
func (v *validator) commitSettings(base string, s Service) error {
	if err := v.oneOf(base+".commits", s.Commits, CommitsAny, CommitsSigned); err != nil {
		return err
	}
	if s.Baseline != "" && !baselineRE.MatchString(s.Baseline) {
		return v.fail(base+".baseline", "%q is not a full commit SHA (40 or 64 lowercase hex): "+
			"a baseline is the exact commit the service was reviewed at", s.Baseline)
	}
	return nil
}

// CommitsMustBeSigned reports whether every commit of a change of service
// into env must be signed by a policy identity: the stricter of the
// environment's and the service's settings.
func (p *Policy) CommitsMustBeSigned(service, env string) bool {
	return p.Environments[env].Commits == CommitsSigned || p.Services[service].Commits == CommitsSigned
}

// Baseline is the commit a first release of service starts after ("" for
// the whole history).
func (p *Policy) Baseline(service string) string {
	return p.Services[service].Baseline
}

// AllowedSigners is the policy's SSH keys as git's allowed signers file
// (gpg.ssh.allowedSignersFile): one line per key, the identity's email as
// principal, valid for git's namespace only. Bots write no commits.
func (p *Policy) AllowedSigners() string {
	var b strings.Builder
	for _, h := range p.Humans {
		for _, k := range p.SSHKeys(h.ID) {
			fmt.Fprintf(&b, "%s namespaces=%q %s", h.Email, GitNamespace, ssh.MarshalAuthorizedKey(k))
		}
	}
	return b.String()
}

// CommitSigner is the human whose key is key: only people write commits.
func (p *Policy) CommitSigner(key ssh.PublicKey) (string, bool) {
	id, ok := p.IdentityForSSHKey(key)
	if !ok || p.human(id) == nil {
		return "", false
	}
	return id, true
}

// ApproversLeft checks that every gate of env can still reach its quorum
// once the change's authors and the requester are set aside: a change
// whose authors are every eligible approver must fail with that reason,
// not wait at a gate nobody can sign.
func (p *Policy) ApproversLeft(env string, authors []string, requester string) error {
	for _, gate := range Gates {
		r, ok := p.Rule(env, gate)
		if !ok {
			continue // no rule: Decide refuses every decision, and says so
		}
		left := p.Awaiting(Check{Environment: env, Gate: gate, Authors: authors, Requester: requester})
		if len(left) < r.Quorum {
			return fmt.Errorf("the change's authors (%s) and the requester %q leave %d eligible signer(s) %v at the %s gate of %s, "+
				"which needs %d: nobody else may approve it", strings.Join(slices.Sorted(slices.Values(authors)), ", "),
				requester, len(left), left, gate, env, r.Quorum)
		}
	}
	return nil
}
