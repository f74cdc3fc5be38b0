package judge

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// Personal verifies p as a person's own statement of predicateType, signed
// with an SSH key or a passkey the policy lists, and returns the signer's
// identity and the statement, read from the very bytes that were signed.
func (j *Judge) Personal(p *attest.Proof, predicateType string) (string, attest.Fact, error) {
	if p == nil || len(p.Statement) == 0 {
		return "", attest.Fact{}, errors.New("no statement signed by the person")
	}
	f, err := attest.ParseStatement(p.Statement, predicateType)
	if err != nil {
		return "", f, err
	}
	var id string
	switch {
	case p.SSHSig != "" && p.Passkey != nil:
		err = errors.New("a statement signed twice (SSH and passkey): send one signature")
	case p.SSHSig != "":
		id, err = j.sshSigner(p.Statement, p.SSHSig)
	case p.Passkey != nil:
		id, err = j.passkeySigner(p.Statement, p.Passkey)
	default:
		err = errors.New("the statement carries no signature")
	}
	return id, f, err
}

// sshSigner verifies an armored sshsig over statement in the foureyes
// namespace and names the identity whose key made it.
func (j *Judge) sshSigner(statement []byte, armored string) (string, error) {
	sig, err := sshsig.Unarmor([]byte(armored))
	if err != nil {
		return "", fmt.Errorf("not an SSH signature: %v", err)
	}
	id, ok := j.Policy.IdentityForSSHKey(sig.PublicKey)
	if !ok {
		return "", fmt.Errorf("signed with SSH key %s (%s), which the policy lists for nobody",
			ssh.FingerprintSHA256(sig.PublicKey), sig.PublicKey.Type())
	}
	if sig.Namespace != policy.SSHNamespace {
		return "", fmt.Errorf("SSH signature for namespace %q, not %q", sig.Namespace, policy.SSHNamespace)
	}
	if err := sshsig.Verify(bytes.NewReader(statement), sig, sig.PublicKey, sig.HashAlgorithm, policy.SSHNamespace); err != nil {
		return "", fmt.Errorf("%s's SSH signature does not verify: %v", id, err)
	}
	return id, nil
}

// ownDecision: at a gate whose proof is "approver" a decision counts only
// with the decider's own signed statement of it; whenever one is relayed,
// it must be exactly the decision the approval role vouched for.
func (j *Judge) ownDecision(rel Release, d attest.Decision) error {
	if d.Proof == nil {
		if j.Policy.ProofAt(rel.Environment, d.Gate) == policy.ProofApprover {
			return fmt.Errorf("the %s gate of %s needs %s's own signature (proof: approver): sign the decision with `starter decide --key`, a bot's SSH key, or a passkey on the approval page",
				d.Gate, rel.Environment, d.Identity)
		}
		return nil
	}
	signer, f, err := j.Personal(d.Proof, attest.PredicatePersonalDecision)
	if err != nil {
		return fmt.Errorf("own signature: %w", err)
	}
	var pd attest.PersonalDecision
	if err := f.Decode(&pd); err != nil {
		return err
	}
	if err := personalBound(rel, f, pd); err != nil {
		return fmt.Errorf("%s's signed decision: %w", signer, err)
	}
	return sameDecision(signer, pd, d)
}

// personalBound: the statement is about rel's artifact, commit, policy and run.
func personalBound(rel Release, f attest.Fact, pd attest.PersonalDecision) error {
	if err := f.CheckSubject(attest.ArtifactSubject(rel.Digest)); err != nil {
		return err
	}
	if err := pd.Binding.Check(rel.Binding()); err != nil {
		return err
	}
	if pd.Commit != rel.Commit {
		return fmt.Errorf("signed for commit %s, not %s", pd.Commit, rel.Commit)
	}
	return pd.Scope.CheckScope(rel.Scope())
}

// sameDecision: the person signed as themselves, and the approval role
// relayed their decision unchanged.
func sameDecision(signer string, pd attest.PersonalDecision, d attest.Decision) error {
	switch {
	case pd.Identity != signer:
		return fmt.Errorf("a decision signed with %s's key names %s as the decider", signer, pd.Identity)
	case d.Identity != signer:
		return fmt.Errorf("the approval role relayed %s's signed decision as %s's", signer, d.Identity)
	case pd.Gate != d.Gate || pd.Verdict != d.Verdict:
		return fmt.Errorf("%s signed %s at the %s gate, not %s at the %s gate", signer, pd.Verdict, pd.Gate, d.Verdict, d.Gate)
	case api.ScopedRequestID(signer, pd.RequestID) != d.RequestID:
		return fmt.Errorf("%s signed request %q, not %q", signer, pd.RequestID, d.RequestID)
	case pd.Comment != d.Comment:
		return fmt.Errorf("the comment relayed is not the one %s signed", signer)
	}
	return nil
}

// ProvenanceOf checks prov is the build role's provenance of rel's
// artifact under p, fills in the commit it names and returns what it says
// was built (the change, its commits and authors): what a signer's own
// tool (starter decide, the approval page) renders a statement from.
func ProvenanceOf(p *policy.Policy, rel Release, prov attest.Envelope) (Release, attest.BuildParameters, error) {
	j, err := New(p)
	if err != nil {
		return rel, attest.BuildParameters{}, err
	}
	var pv attest.Provenance
	if _, err := j.Signed(prov, attest.RoleBuild, attest.PredicateProvenance, &pv); err != nil {
		return rel, attest.BuildParameters{}, fmt.Errorf("build provenance: %w", err)
	}
	rel.Commit = pv.BuildDefinition.ExternalParameters.Commit
	pv, err = j.Provenance(rel, prov)
	return rel, pv.BuildDefinition.ExternalParameters, err
}

// Claim is what a release was started with, as the server recorded it.
type Claim struct {
	Requester string
	Commit    string // as requested: SHA, tag or branch
	Authors   []string
	Proof     *attest.Proof
}

// Requester is who requested rel. Where the environment's request_proof
// is "requester" it is the signer of the request's own statement, which
// must be exactly this request; elsewhere the requester the claim names.
func (j *Judge) Requester(rel Release, q Claim) (string, error) {
	if j.Policy.RequestProofIn(rel.Environment) != policy.ProofRequester && q.Proof == nil {
		return q.Requester, nil
	}
	if q.Proof == nil {
		return "", fmt.Errorf("a release to %s needs the requester's own signed request (request_proof: requester): start it with `starter start --key`", rel.Environment)
	}
	signer, f, err := j.Personal(q.Proof, attest.PredicatePersonalRequest)
	if err != nil {
		return "", fmt.Errorf("request: own signature: %w", err)
	}
	var pr attest.PersonalRequest
	if err := f.Decode(&pr); err != nil {
		return "", err
	}
	if err := f.CheckSubject(attest.ReleaseSubject(rel.ID)); err != nil {
		return "", fmt.Errorf("%s's signed request: %w", signer, err)
	}
	return signer, sameRequest(signer, pr, rel, q)
}

func sameRequest(signer string, pr attest.PersonalRequest, rel Release, q Claim) error {
	switch {
	case pr.Requester != signer || q.Requester != signer:
		return fmt.Errorf("a request signed with %s's key names %q as requester (started as %q)", signer, pr.Requester, q.Requester)
	case pr.Release != rel.ID || pr.Service != rel.Service || pr.Environment != rel.Environment:
		return fmt.Errorf("%s signed a request for %s (%s to %s), not %s (%s to %s)", signer,
			pr.Release, pr.Service, pr.Environment, rel.ID, rel.Service, rel.Environment)
	case pr.Commit != q.Commit || strings.Join(pr.Authors, ",") != strings.Join(q.Authors, ",") || pr.Promotes != rel.Promotes:
		return fmt.Errorf("%s signed another request (commit %s, authors %v, promotes %q)", signer, pr.Commit, pr.Authors, pr.Promotes)
	}
	return nil
}

// Declarer is the release manager who declared rel an emergency. Where
// requests must be the requester's own, so must the declaration: the
// declarer is the one who signed the request.
func (j *Judge) Declarer(rel Release, env attest.Envelope, requester string) (string, error) {
	e, err := j.Emergency(rel, env)
	switch {
	case err != nil:
		return "", fmt.Errorf("emergency declaration: %w", err)
	case j.Policy.RequestProofIn(rel.Environment) == policy.ProofRequester && e.Identity != requester:
		return "", fmt.Errorf("emergency declaration: declared by %s, but the request is signed by %s: declare it on your own signed request", e.Identity, requester)
	}
	return e.Identity, nil
}
