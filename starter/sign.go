package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/judge"
	"github.com/foureyes/foureyes/policy"
)

// ownKey is how a person signs with their own SSH key: a key file, or
// ssh-agent; and the policy their tool checks what it signs against.
type ownKey struct {
	keyFile    string
	useAgent   bool
	policyFile string
}

func (k ownKey) wanted() bool { return k.keyFile != "" || k.useAgent }

// check refuses both a key file and the agent.
func (k ownKey) check() error {
	if k.keyFile != "" && k.useAgent {
		return usageError("use one of --key or --ssh-agent")
	}
	return nil
}

// signer loads the person's key and the identity the policy lists it for.
func (k ownKey) signer(e *env) (ssh.Signer, *policy.Policy, string, error) {
	if err := k.check(); err != nil {
		return nil, nil, "", err
	}
	file := k.policyFile
	if file == "" {
		file = e.getenv("FOUREYES_POLICY_FILE")
	}
	if file == "" {
		return nil, nil, "", usageError("--policy: signing needs your own copy of the policy (or $FOUREYES_POLICY_FILE) to check what you sign")
	}
	p, _, err := policy.Load(file)
	if err != nil {
		return nil, nil, "", fail(exitUsage, "--policy: %v", err)
	}
	s, err := k.load(e, p)
	if err != nil {
		return nil, nil, "", err
	}
	id, ok := p.IdentityForSSHKey(s.PublicKey())
	if !ok {
		return nil, nil, "", fail(exitUsage, "your SSH key %s is listed for nobody in %s", ssh.FingerprintSHA256(s.PublicKey()), file)
	}
	return s, p, id, nil
}

// load reads the key file, or takes the agent's first key the policy lists.
func (k ownKey) load(e *env, p *policy.Policy) (ssh.Signer, error) {
	if !k.useAgent {
		raw, err := os.ReadFile(k.keyFile)
		if err != nil {
			return nil, fail(exitUsage, "--key: %v", err)
		}
		s, err := ssh.ParsePrivateKey(raw)
		if err != nil {
			return nil, fail(exitUsage, "--key %s: %v (a key with a passphrase: load it into ssh-agent and use --ssh-agent)", k.keyFile, err)
		}
		return s, nil
	}
	conn, err := net.Dial("unix", e.getenv("SSH_AUTH_SOCK"))
	if err != nil {
		return nil, fail(exitUsage, "--ssh-agent: $SSH_AUTH_SOCK: %v", err)
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		return nil, fail(exitFailure, "--ssh-agent: %v", err)
	}
	for _, s := range signers {
		if _, ok := p.IdentityForSSHKey(s.PublicKey()); ok {
			return s, nil
		}
	}
	return nil, fail(exitUsage, "--ssh-agent: none of the agent's %d keys is listed in the policy", len(signers))
}

// signDecision asks the gateway for the statement of d, checks it against
// the person's own copy of the policy, shows it and signs it.
func signDecision(e *env, d decideArgs, token string) (*attest.Proof, error) {
	s, p, id, err := d.key.signer(e)
	if err != nil {
		return nil, err
	}
	offer, err := fetchStatement(d, token)
	if err != nil {
		return nil, err
	}
	pd, rel, built, err := checkStatement(p, offer, id, d.req)
	if err != nil {
		return nil, fail(exitFailure, "not signed: %v", err)
	}
	showStatement(e.stderr, pd, rel, built, offer.Proof)
	proof, err := attest.SignSSH(offer.Statement, s)
	if err != nil {
		return nil, fail(exitFailure, "%v", err)
	}
	return proof, nil
}

func fetchStatement(d decideArgs, token string) (api.StatementOffer, error) {
	var offer api.StatementOffer
	status, raw, err := gatewayClient{d.gatewayURL, token}.post(api.PathStatements, d.req)
	if err != nil {
		return offer, err
	}
	if status != http.StatusOK {
		return offer, fail(exitFailure, "gateway %s: no statement to sign: %s", d.gatewayURL, oneLine(string(raw), 300))
	}
	if err := json.Unmarshal(raw, &offer); err != nil {
		return offer, fail(exitFailure, "gateway %s: statement: %v", d.gatewayURL, err)
	}
	return offer, nil
}

// checkStatement: the statement is id's decision req, about the artifact
// and commit the build role's provenance names under the person's policy.
func checkStatement(p *policy.Policy, offer api.StatementOffer, id string, req api.DecisionRequest) (attest.PersonalDecision, judge.Release, attest.BuildParameters, error) {
	var pd attest.PersonalDecision
	var built attest.BuildParameters
	f, err := attest.ParseStatement(offer.Statement, attest.PredicatePersonalDecision)
	if err == nil {
		err = f.Decode(&pd)
	}
	if err != nil {
		return pd, judge.Release{}, built, err
	}
	rel := judge.Release{ID: pd.Release, RunID: pd.RunID, Service: pd.Service, Environment: pd.Environment,
		Digest: f.Subject.SHA256, PolicyHash: pd.PolicySHA256, Promotes: offer.Promotes}
	switch {
	case pd.Identity != id:
		return pd, rel, built, fmt.Errorf("the statement names %s as the decider; your key is %s's", pd.Identity, id)
	case pd.Release != req.ReleaseID || pd.Gate != req.Gate || pd.Verdict != req.Verdict || pd.Comment != req.Comment || pd.RequestID != req.RequestID:
		return pd, rel, built, fmt.Errorf("the statement is not the decision you asked for: %s %s at %s of %s", pd.Verdict, pd.Gate, pd.Environment, pd.Release)
	}
	rel, built, err = judge.ProvenanceOf(p, rel, offer.Provenance)
	if err == nil && rel.Commit != pd.Commit {
		err = fmt.Errorf("the statement names commit %s; the build provenance %s", pd.Commit, rel.Commit)
	}
	return pd, rel, built, err
}

// showStatement says what the person signs before they sign it.
func showStatement(w io.Writer, pd attest.PersonalDecision, rel judge.Release, built attest.BuildParameters, proof string) {
	fmt.Fprintf(w, "signing as %s with your own key (gate proof: %s):\n", pd.Identity, proof)
	fmt.Fprintf(w, "  %s the %s gate of release %s (%s to %s, run %s)\n", pd.Verdict, pd.Gate, pd.Release, pd.Service, pd.Environment, pd.RunID)
	fmt.Fprintf(w, "  commit %s, artifact sha256:%s, policy sha256:%s\n", pd.Commit, rel.Digest, pd.PolicySHA256)
	if rel.Promotes != "" {
		fmt.Fprintf(w, "  promotes the artifact of release %s\n", rel.Promotes)
	}
	showChange(w, built.Change)
	if strings.TrimSpace(pd.Comment) != "" {
		fmt.Fprintf(w, "  comment: %s\n", pd.Comment)
	}
}

// showChange lists the change the build role attested: its commits, who
// signed each, and its authors.
func showChange(w io.Writer, c *attest.Change) {
	if c == nil {
		return
	}
	fmt.Fprintf(w, "  change of %d commit(s), authors %s:\n", c.CommitCount, strings.Join(c.Identities, ", "))
	for _, k := range c.Commits {
		fmt.Fprintf(w, "    %.8s %s (%s; %s)\n", k.SHA, k.Subject, k.Author, orUnsigned(k.Proof()))
	}
}

func orUnsigned(proof string) string {
	if proof == "" {
		return "signature not checked"
	}
	return proof
}

func (k *ownKey) define(e *env, fs *flag.FlagSet) {
	fs.StringVar(&k.keyFile, "key", "", "sign with your own SSH key `FILE` (where the policy asks for your own signature: proof: approver, request_proof: requester)")
	fs.BoolVar(&k.useAgent, "ssh-agent", false, "sign with your key in ssh-agent ($SSH_AUTH_SOCK)")
	fs.StringVar(&k.policyFile, "policy", "", "with --key: your copy of the policy `FILE` (default $FOUREYES_POLICY_FILE)")
}

// asRequester makes the key's owner the requester: a signed request names
// its signer, never a typed name.
func (k ownKey) asRequester(e *env, req *api.ReleaseRequest) error {
	if !k.wanted() {
		return nil
	}
	_, _, id, err := k.signer(e)
	if err != nil {
		return err
	}
	if req.Requester != "" && req.Requester != id {
		return fail(exitUsage, "--requester %s: your key is %s's, and a signed request's requester is its signer", req.Requester, id)
	}
	req.Requester = id
	return nil
}

// signRequest signs the request req starts release id with.
func (k ownKey) signRequest(e *env, id string, req api.ReleaseRequest, emergency string) (*attest.Proof, error) {
	s, _, _, err := k.signer(e)
	if err != nil {
		return nil, err
	}
	pr := api.PersonalRequest(id, req, emergency, time.Now().UTC())
	st, err := attest.PersonalStatement(attest.ReleaseSubject(id), attest.PredicatePersonalRequest, pr)
	if err != nil {
		return nil, fail(exitFailure, "%v", err)
	}
	fmt.Fprintf(e.stderr, "signing as %s with your own key: request %s (%s to %s at %s)\n", pr.Requester, id, pr.Service, pr.Environment, pr.Commit)
	proof, err := attest.SignSSH(st, s)
	if err != nil {
		return nil, fail(exitFailure, "%v", err)
	}
	return proof, nil
}
