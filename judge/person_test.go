package judge

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/demokeys"
	"github.com/foureyes/foureyes/internal/testkeys"
	"github.com/foureyes/foureyes/internal/testpasskey"
	"github.com/foureyes/foureyes/policy"
)

// carolsPasskey is carol's passkey for the approval page at localhost.
var carolsPasskey = testpasskey.New("localhost", "http://localhost:8480")

// newProofJudge is newJudge's policy with people's keys and an approval
// gate whose decisions count only with the approver's own signature.
func newProofJudge(t *testing.T) (*Judge, Release) {
	y := testPolicy
	for _, id := range []string{"bob", "carol", "dave"} {
		y = strings.Replace(y, "{id: "+id+",", fmt.Sprintf("{id: %s, ssh: [%q],", id, demokeys.AuthorizedKey(id)), 1)
	}
	c := carolsPasskey.Credential()
	y = strings.Replace(y, "{id: carol,", fmt.Sprintf("{id: carol, webauthn: [{credential_id: %s, public_key: %s, rp_id: %s}],",
		c.CredentialID, c.PublicKey, c.RPID), 1)
	y = strings.Replace(y, "approval: {groups: [owners], quorum: 2, deadline: 24h}", "approval: {groups: [owners], quorum: 2, deadline: 24h, proof: approver}", 1)
	return judgeOf(t, y)
}

// personal is who's own statement of a decision at gate of rel.
func personal(rel Release, gate, who, verdict string) attest.PersonalDecision {
	return attest.PersonalDecision{Binding: rel.Binding(), Scope: rel.Scope(), RequestID: "r-" + who + "-" + gate,
		Gate: gate, Verdict: verdict, Identity: who, Commit: rel.Commit, Comment: "because", At: time.Now().UTC()}
}

func statementOf(t *testing.T, digest string, pd attest.PersonalDecision) []byte {
	st, err := attest.PersonalStatement(attest.ArtifactSubject(digest), attest.PredicatePersonalDecision, pd)
	require.NoError(t, err)
	return st
}

// sshProof signs pd with key's demo SSH key.
func sshProof(t *testing.T, digest string, pd attest.PersonalDecision, key string) *attest.Proof {
	p, err := attest.SignSSH(statementOf(t, digest, pd), demokeys.Signer(key))
	require.NoError(t, err)
	return p
}

// relayed is the approval role's envelope of the decision pd, carrying proof.
func relayed(t *testing.T, rel Release, pd attest.PersonalDecision, proof *attest.Proof) attest.Envelope {
	d := attest.Decision{Binding: rel.Binding(), Scope: rel.Scope(), RequestID: api.ScopedRequestID(pd.Identity, pd.RequestID),
		Gate: pd.Gate, Verdict: pd.Verdict, Identity: pd.Identity, Channel: "cli", Comment: pd.Comment, At: time.Now().UTC(), Proof: proof}
	env, err := testkeys.Signer(attest.RoleApproval).Attest(attest.ArtifactSubject(rel.Digest), attest.PredicateDecision, d)
	require.NoError(t, err)
	return env
}

func TestOwnSignatureCounts(t *testing.T) {
	j, rel := newProofJudge(t)
	pd := personal(rel, "approval", "carol", "approve")
	d, err := j.Decision(rel, relayed(t, rel, pd, sshProof(t, rel.Digest, pd, "carol")))
	require.NoError(t, err)
	require.Equal(t, "carol", d.Identity)

	st := statementOf(t, rel.Digest, pd)
	nonce := []byte("nonce-1")
	_, err = j.Decision(rel, relayed(t, rel, pd, &attest.Proof{Statement: st, Passkey: carolsPasskey.Sign(st, nonce, testpasskey.Options{})}))
	require.NoError(t, err, "carol's passkey")
}

// Attacks on an approver gate: each refused, each by its own check.
func TestOwnSignatureAttacks(t *testing.T) {
	j, rel := newProofJudge(t)
	carol := personal(rel, "approval", "carol", "approve")
	st := statementOf(t, rel.Digest, carol)
	off := byte(0x04) // verified, not present
	other := func(f func(*Release)) Release { r := rel; f(&r); return r }
	cases := map[string]struct {
		env  attest.Envelope
		want string
	}{
		"the approval role's word alone": {relayed(t, rel, carol, nil), "needs carol's own signature (proof: approver)"},
		"bob's key signing as carol":     {relayed(t, rel, carol, sshProof(t, rel.Digest, carol, "bob")), "a decision signed with bob's key names carol"},
		"a key nobody owns":              {relayed(t, rel, carol, sshProof(t, rel.Digest, carol, "mallory")), "which the policy lists for nobody"},
		"carol's signature relayed as dave's": {func() attest.Envelope {
			dave := carol
			dave.Identity = "dave"
			return relayed(t, rel, dave, sshProof(t, rel.Digest, carol, "carol"))
		}(), "relayed carol's signed decision as dave's"},
		"another release":     {relayed(t, rel, carol, sshProof(t, rel.Digest, personal(other(func(r *Release) { r.ID = "rel-2" }), "approval", "carol", "approve"), "carol")), `bound to release "rel-2"`},
		"another run":         {relayed(t, rel, carol, sshProof(t, rel.Digest, personal(other(func(r *Release) { r.RunID = "run-2" }), "approval", "carol", "approve"), "carol")), `(run "run-2")`},
		"another environment": {relayed(t, rel, carol, sshProof(t, rel.Digest, personal(other(func(r *Release) { r.Environment = "staging" }), "approval", "carol", "approve"), "carol")), "in staging"},
		"another artifact":    {relayed(t, rel, carol, sshProof(t, strings.Repeat("e", 64), carol, "carol")), "not sha256:" + rel.Digest},
		"another gate":        {relayed(t, rel, carol, sshProof(t, rel.Digest, personal(rel, "review", "carol", "approve"), "carol")), "carol signed approve at the review gate"},
		"another verdict":     {relayed(t, rel, carol, sshProof(t, rel.Digest, personal(rel, "approval", "carol", "reject"), "carol")), "carol signed reject at the approval gate, not approve"},
		"passkey: wrong origin": {relayed(t, rel, carol, &attest.Proof{Statement: st,
			Passkey: carolsPasskey.Sign(st, []byte("n"), testpasskey.Options{Origin: "https://evil.example"})}), "origin https://evil.example is not of relying party localhost"},
		"passkey: wrong rp id": {relayed(t, rel, carol, &attest.Proof{Statement: st,
			Passkey: carolsPasskey.Sign(st, []byte("n"), testpasskey.Options{RPID: "evil.example"})}), "signed for another relying party than localhost"},
		"passkey: user not present": {relayed(t, rel, carol, &attest.Proof{Statement: st,
			Passkey: carolsPasskey.Sign(st, []byte("n"), testpasskey.Options{Flags: &off})}), "the user was not present"},
		"passkey: bad signature": {relayed(t, rel, carol, &attest.Proof{Statement: st,
			Passkey: carolsPasskey.Sign(st, []byte("n"), testpasskey.Options{BadSignature: true})}), "bad signature"},
		"passkey: another statement's challenge": {relayed(t, rel, carol, &attest.Proof{Statement: st,
			Passkey: carolsPasskey.Sign(statementOf(t, rel.Digest, personal(rel, "approval", "carol", "reject")), []byte("n"), testpasskey.Options{})}), "the challenge signed is not this statement"},
		"passkey: an unknown credential": {relayed(t, rel, carol, &attest.Proof{Statement: st,
			Passkey: testpasskey.New("localhost", "http://localhost:8480").Sign(st, []byte("n"), testpasskey.Options{})}), "is listed for nobody"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := j.Decision(rel, c.env)
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
		})
	}
}

// At a gateway gate the approval role's word still counts (review here).
func TestGatewayGateNeedsNoOwnSignature(t *testing.T) {
	j, rel := newProofJudge(t)
	_, err := j.Decision(rel, decide(t, rel, "review", "bob", "approve").Envelope)
	require.NoError(t, err)
}

// requestProof is who's own signed request for rel, with q's fields.
func requestProof(t *testing.T, rel Release, q Claim, key string) *attest.Proof {
	pr := attest.PersonalRequest{Release: rel.ID, Service: rel.Service, Environment: rel.Environment, Commit: q.Commit,
		Authors: q.Authors, Requester: q.Requester, At: time.Now().UTC()}
	st, err := attest.PersonalStatement(attest.ReleaseSubject(rel.ID), attest.PredicatePersonalRequest, pr)
	require.NoError(t, err)
	p, err := attest.SignSSH(st, demokeys.Signer(key))
	require.NoError(t, err)
	return p
}

func withRequestProof(t *testing.T, j *Judge, env string) {
	e := j.Policy.Environments[env]
	e.RequestProof = policy.ProofRequester
	j.Policy.Environments[env] = e
}

func TestRequesterIsTheSigner(t *testing.T) {
	j, rel := newProofJudge(t)
	q := Claim{Requester: "bob", Commit: "main", Authors: []string{"alice"}}
	id, err := j.Requester(rel, q)
	require.NoError(t, err)
	require.Equal(t, "bob", id, "without request_proof the typed requester stands")

	withRequestProof(t, j, "prod")
	_, err = j.Requester(rel, q)
	require.ErrorContains(t, err, "needs the requester's own signed request")

	q.Proof = requestProof(t, rel, q, "bob")
	id, err = j.Requester(rel, q)
	require.NoError(t, err)
	require.Equal(t, "bob", id)
}

func TestRequestProofAttacks(t *testing.T) {
	j, rel := newProofJudge(t)
	withRequestProof(t, j, "prod")
	q := Claim{Requester: "carol", Commit: "main", Authors: []string{"alice"}}
	other := rel
	other.ID = "rel-9"
	cases := map[string]struct {
		claim Claim
		want  string
	}{
		"started naming carol, signed by bob": {Claim{Requester: "carol", Commit: "main", Authors: q.Authors,
			Proof: requestProof(t, rel, Claim{Requester: "carol", Commit: "main", Authors: q.Authors}, "bob")}, `signed with bob's key names "carol"`},
		"bob's request for another release": {Claim{Requester: "bob", Commit: "main", Authors: q.Authors,
			Proof: requestProof(t, other, Claim{Requester: "bob", Commit: "main", Authors: q.Authors}, "bob")}, "not sha256:"},
		"bob's request for another commit": {Claim{Requester: "bob", Commit: "v2", Authors: q.Authors,
			Proof: requestProof(t, rel, Claim{Requester: "bob", Commit: "main", Authors: q.Authors}, "bob")}, "bob signed another request"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := j.Requester(rel, c.claim)
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
		})
	}
}

// Where requests must be the requester's own, so must an emergency's
// declaration: declared by the release manager who signed the request.
func TestDeclarerMustSignTheRequest(t *testing.T) {
	j, rel := newProofJudge(t)
	withRequestProof(t, j, "prod")
	e := j.Policy.Environments["prod"]
	e.Emergency = &policy.Emergency{SlackChannel: "#incidents"}
	j.Policy.Environments["prod"] = e
	declared := func(who string) attest.Envelope {
		env, err := testkeys.Signer(attest.RoleApproval).Attest(attest.ReleaseSubject(rel.ID), attest.PredicateEmergency,
			attest.Emergency{Binding: rel.Binding(), Scope: attest.Scope{Service: rel.Service, Environment: rel.Environment},
				RequestID: "em-1", Identity: who, Reason: "outage", At: time.Now().UTC()})
		require.NoError(t, err)
		return env
	}
	id, err := j.Declarer(rel, declared("rita"), "rita")
	require.NoError(t, err)
	require.Equal(t, "rita", id)
	_, err = j.Declarer(rel, declared("rita"), "bob")
	require.ErrorContains(t, err, "declared by rita, but the request is signed by bob")
}
