package faults

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/demokeys"
	"github.com/foureyes/foureyes/internal/testpasskey"
)

// ownKeys (issue "People prove their own decisions"): in environment vault
// (withVault) decisions at both gates and start requests count only
// with the person's own signature. The attacker holds the approval role's
// signing key and a Temporal credential: its forgeries of bob, carol and
// dave are refused, and so are real signatures moved to another decision,
// release or signer; then carol and dave sign with their own keys and the
// release deploys.
func (a *attackRun) ownKeys(ctx context.Context, t *testing.T) {
	id, err := a.startVault(ctx, "rita", "rita", true)
	require(t, err)
	require(t, a.s.WaitStatus(ctx, id, api.StatusAwaitingReview))
	approval, err := attest.LoadSigner(attest.RoleApproval, a.s.Local.KeyFile(attest.RoleApproval))
	require(t, err)
	a.forgedAt(ctx, t, approval, id, "review", "bob")
	require(t, a.signed(ctx, id, "review", "bob"))
	require(t, a.s.WaitStatus(ctx, id, api.StatusAwaitingApproval))
	bd := a.forgedAt(ctx, t, approval, id, "approval", "carol", "dave")
	a.movedSignatures(ctx, t, approval, bd)
	a.spoiledPasskeys(ctx, t, approval, bd)
	a.forgedRequests(ctx, t)
	if err := a.stillAwaiting(ctx, id, "approval"); err != nil {
		t.Errorf("after the forgeries: %v", err)
	}
	for _, who := range []string{"carol", "dave"} {
		require(t, a.signed(ctx, id, "approval", who))
	}
	res, err := a.result(ctx, id)
	require(t, err)
	if res.Status != api.StatusDeployed {
		t.Fatalf("the vault release signed by carol and dave ended %s: %s", res.Status, res.Reason)
	}
}

// forgedAt: the approval role's key forges each of who at gate, an
// approver gate: refused. It returns the release's binding.
func (a *attackRun) forgedAt(ctx context.Context, t *testing.T, approval *attest.Signer, id, gate string, who ...string) api.Binding {
	bd, err := a.binding(ctx, id)
	require(t, err)
	for _, w := range who {
		a.attempt(t, "own keys", "the approval role's key forges "+w+" at an approver "+gate+" gate", func() error {
			d := scopedStatement(bd, "forged-own-"+w, w, api.VerdictApprove)
			d.Gate = gate
			return a.relayRefusedAs(ctx, approval, bd, d, "needs "+w+"'s own signature (proof: approver)")
		})
	}
	return bd
}

// signed: who approves gate with their own signature: accepted.
func (a *attackRun) signed(ctx context.Context, id, gate, who string) error {
	code, ans, err := a.s.SignedDecide(ctx, who, api.DecisionRequest{ReleaseID: id, Gate: gate, Verdict: "approve", RequestID: "own-" + who})
	if err == nil && code != 200 {
		err = fmt.Errorf("%d %+v", code, ans)
	}
	if err != nil {
		return fmt.Errorf("%s's own signed approval at %s: %w", who, gate, err)
	}
	return nil
}

// movedSignatures: carol's real signature, relayed as another decision, as
// dave's, onto another release; bob's key signing carol's statement.
func (a *attackRun) movedSignatures(ctx context.Context, t *testing.T, approval *attest.Signer, bd api.Binding) {
	offer, err := a.s.Statement(ctx, "carol", api.DecisionRequest{ReleaseID: bd.ReleaseID, Gate: "approval", Verdict: "approve", RequestID: "moved"})
	require(t, err)
	carols, err := attest.SignSSH(offer.Statement, demokeys.Signer("carol"))
	require(t, err)
	bobs, err := attest.SignSSH(offer.Statement, demokeys.Signer("bob"))
	require(t, err)
	other, err := a.binding(ctx, a.releases["carol"]) // a prod release waiting at approval
	require(t, err)
	for _, c := range []struct {
		name, who, verdict string
		bd                 api.Binding
		proof              *attest.Proof
		want               string
	}{
		{"carol's signed approval relayed as a rejection", "carol", api.VerdictReject, bd, carols, "carol signed approve at the approval gate, not reject"},
		{"carol's signed approval relayed as dave's", "dave", api.VerdictApprove, bd, carols, "relayed carol's signed decision as dave's"},
		{"carol's signed approval replayed onto another release and environment", "carol", api.VerdictApprove, other, carols, "carol's signed decision: about artifact"},
		{"bob's key signing carol's statement", "carol", api.VerdictApprove, bd, bobs, "a decision signed with bob's key names carol"},
	} {
		a.attempt(t, "own keys", c.name, func() error {
			d := scopedStatement(c.bd, "moved-"+strings.Fields(c.name)[3], c.who, c.verdict)
			d.Proof = c.proof
			return a.relayRefusedAs(ctx, approval, c.bd, d, c.want)
		})
	}
}

// forgedRequests: a start without the requester's signature, and one
// naming carol as requester but signed by bob, both end refused.
func (a *attackRun) forgedRequests(ctx context.Context, t *testing.T) {
	for _, c := range []struct {
		name, named, signer string
		signed              bool
		want                string
	}{
		{"a vault release started without the requester's signature", "rita", "", false, "needs the requester's own signed request"},
		{"a start request naming carol, signed by bob", "carol", "bob", true, `signed with bob's key names "carol" as requester`},
	} {
		a.attempt(t, "own keys", c.name, func() error {
			id, err := a.startVault(ctx, c.named, c.signer, c.signed)
			if err != nil {
				return err
			}
			res, err := a.result(ctx, id)
			if err == nil && (res.Status != api.StatusFailed || !strings.Contains(res.Reason, c.want)) {
				err = fmt.Errorf("ended %s: %s; want failed: %s", res.Status, res.Reason, c.want)
			}
			return err
		})
	}
}

// startVault starts a vault release requested as named, signed by signer's
// key when signed.
func (a *attackRun) startVault(ctx context.Context, named, signer string, signed bool) (string, error) {
	id := releaseID("forged-carol")
	req := api.ReleaseRequest{Service: "forged-carol", Environment: "vault", Commit: commitOf("vault"),
		Authors: []string{"alice"}, Requester: named, Title: "attack: own keys"}
	if signed {
		st, err := attest.PersonalStatement(attest.ReleaseSubject(id), attest.PredicatePersonalRequest,
			api.PersonalRequest(id, req, "", time.Now().UTC()))
		if err != nil {
			return "", err
		}
		if req.RequestProof, err = attest.SignSSH(st, demokeys.Signer(signer)); err != nil {
			return "", err
		}
	}
	if named != signer || !signed {
		a.aim(id) // an attack's release: it must deploy nothing
	}
	_, err := a.s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: api.QueueOrchestrator,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL}, api.WorkflowRelease, req)
	return id, err
}

// scopedStatement is who's decision as the approval role writes it for bd.
func scopedStatement(bd api.Binding, rid, who, verdict string) attest.Decision {
	d := decisionStatement(bd, api.ScopedRequestID(who, rid), "approval", who, api.ChannelAPI)
	d.Scope = attest.Scope{Service: bd.Service, Environment: bd.Environment, RunID: bd.RunID}
	d.Verdict, d.Comment = verdict, ""
	return d
}

func (a *attackRun) relayRefusedAs(ctx context.Context, approval *attest.Signer, bd api.Binding, d attest.Decision, want string) error {
	env, err := approval.Attest(attest.ArtifactSubject(bd.ArtifactDigest), attest.PredicateDecision, d)
	if err != nil {
		return err
	}
	var o api.DecisionOutcome
	if err := a.update(ctx, bd.ReleaseID, d.RequestID, api.UpdateDecide, env, &o); err != nil {
		return err
	}
	if o.Outcome != api.OutcomeRefused || !strings.Contains(o.Reason, want) {
		return fmt.Errorf("answered %s (%s); want refused: %s", o.Outcome, o.Reason, want)
	}
	return nil
}

// vaultPasskey is carol's demo passkey, which the sample policy lists.
var vaultPasskey = func() *testpasskey.Authenticator {
	pk := demokeys.DemoPasskey("carol")
	return testpasskey.FromKey("localhost", "http://localhost:8480", pk.ID, pk.Key)
}()

// spoiledPasskeys: carol's passkey assertions over her real statement, each
// spoiled in one part, relayed with the approval role's key: refused.
func (a *attackRun) spoiledPasskeys(ctx context.Context, t *testing.T, approval *attest.Signer, bd api.Binding) {
	present := byte(0x04) // verified, not present
	for i, c := range []struct {
		name string
		o    testpasskey.Options
		want string
	}{
		{"carol's passkey assertion from another origin", testpasskey.Options{Origin: "https://evil.example"}, "origin https://evil.example is not of relying party localhost"},
		{"carol's passkey assertion for another relying party", testpasskey.Options{RPID: "evil.example"}, "signed for another relying party than localhost"},
		{"carol's passkey assertion with user presence off", testpasskey.Options{Flags: &present}, "the user was not present"},
		{"carol's passkey assertion with a bad signature", testpasskey.Options{BadSignature: true}, "bad signature"},
	} {
		a.attempt(t, "own keys", c.name, func() error {
			rid := fmt.Sprintf("passkey-%d", i)
			offer, err := a.s.Statement(ctx, "carol", api.DecisionRequest{ReleaseID: bd.ReleaseID, Gate: "approval", Verdict: "approve", RequestID: rid})
			if err != nil {
				return err
			}
			d := scopedStatement(bd, rid, "carol", api.VerdictApprove)
			d.Proof = &attest.Proof{Statement: offer.Statement, Passkey: vaultPasskey.Sign(offer.Statement, []byte(rid), c.o)}
			return a.relayRefusedAs(ctx, approval, bd, d, c.want)
		})
	}
}
