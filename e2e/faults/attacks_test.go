package faults

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/figures"
	"github.com/foureyes/foureyes/internal/stacktest"
	"github.com/foureyes/foureyes/policy"
)

// The attacks of issue 9, each tried on the real stack as an attacker would:
// with access to the Temporal namespace (any role's credentials, the
// release manager's CLI, code run by a build command), a stolen role key,
// or an exported audit file. Every one of them worked before releases were
// signed; each check below fails if its defence is missing.

// Kinds of attacks, in the order the figure lists them.
var attackKinds = []string{"forged decision", "forged cancel", "rogue Deploy", "hostile orchestrator", "release id reuse", "no credential", "activity complete",
	"rogue LoadPolicy", "replayed envelope", "rewritten export", "emergency", "own keys", "slack replay", "flood", "signed commits"}

// attackRun is what the attacks share: the stack, the attacker's means and
// the tally.
type attackRun struct {
	s        *stackT
	hash     string             // sha256 of the stack's policy, as every real release pins it
	content  []byte             // the stack's policy file
	attacker ed25519.PrivateKey // a key of the attacker's own, in no policy
	stolen   *attest.Signer     // the build role's real key, as a compromised build role has it

	mu             sync.Mutex
	tried, refused map[string]int
	ids            []string          // every release (or made-up id) an attack aimed at
	releases       map[string]string // the releases started for the attacks, by purpose
	ref            ref               // a release deployed the honest way, for replays
	refDone        chan struct{}
	flood          floodFigures
}

// ref is a deployed release's facts an attacker can read from Temporal.
type ref struct {
	id       string
	req      api.ReleaseRequest
	result   api.ReleaseResult
	entries  []audit.Entry
	err      error
	decision map[string]attest.Envelope // gate/identity -> accepted decision envelope
}

func attacks(t *testing.T, s *stackT) {
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute) // 15 kinds of attack, on 2 shared cores
	defer cancel()
	a := newAttackRun(t, s)
	a.startReleases(ctx, t)
	steps := []struct {
		name string
		run  func(context.Context, *testing.T)
	}{
		{"ForgedDecisions", a.forgedDecisions},
		{"ForgedCancel", a.forgedCancels},
		{"RogueWorkflowDeploys", a.rogueDeploy},
		{"HostileOrchestrator", a.hostileOrchestrator},
		{"ApprovedThenCancelled", a.approvedThenCancelled},
		{"NoCredential", a.noCredential},
		{"ReplayedEnvelopes", a.replayedEnvelopes},
		{"RewrittenExport", a.rewrittenExport},
		{"ActivityComplete", a.activityComplete},
		{"RogueLoadPolicy", a.rogueLoadPolicy},
		{"Emergency", a.emergency},
		{"OwnKeys", a.ownKeys},
		{"SlackReplay", a.slackReplay},
		{"Flood", a.floodDecisions},
		{"SignedCommits", a.signedCommits},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			at := time.Now()
			ctx, cancel := context.WithTimeout(ctx, 100*time.Second)
			defer cancel()
			st.run(ctx, t)
			t.Logf("%s: %.1fs", st.name, time.Since(at).Seconds())
		})
	}
	a.cleanUp(ctx, t)
	a.report(t, time.Since(begin))
}

func newAttackRun(t *testing.T, s *stackT) *attackRun {
	content, err := os.ReadFile(s.Local.PolicyFile())
	require(t, err)
	stolen, err := attest.LoadSigner(attest.RoleBuild, s.Local.KeyFile(attest.RoleBuild))
	require(t, err)
	return &attackRun{s: s, hash: policy.HashBytes(content), content: content, attacker: freshKey(t), stolen: stolen,
		tried: map[string]int{}, refused: map[string]int{}, releases: map[string]string{}, refDone: make(chan struct{})}
}

// freshKey is a key the attacker generated (attest.GenerateKey).
func freshKey(t *testing.T) ed25519.PrivateKey {
	pemKey, _, err := attest.GenerateKey()
	require(t, err)
	block, _ := pem.Decode(pemKey)
	if block == nil {
		t.Fatal("GenerateKey wrote no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require(t, err)
	return k.(ed25519.PrivateKey)
}

// attempt runs one attack: the defence held when check returns nil.
func (a *attackRun) attempt(t *testing.T, kind, name string, check func() error) {
	t.Helper()
	a.mu.Lock()
	a.tried[kind]++
	a.mu.Unlock()
	if err := check(); err != nil {
		t.Errorf("%s: %s: the defence did not hold: %v", kind, name, err)
		return
	}
	a.mu.Lock()
	a.refused[kind]++
	a.mu.Unlock()
}

// aim notes a release (or made-up id) an attack aimed at: none may deploy.
func (a *attackRun) aim(ids ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ids = append(a.ids, ids...)
}

// releaseID names a new release of service.
func releaseID(service string) string {
	return fmt.Sprintf("release-%s-prod-%d", service, time.Now().UnixNano())
}

// startRelease starts a release by alice, requested by rita.
func (a *attackRun) startRelease(ctx context.Context, service, commit string) (string, error) {
	id := releaseID(service)
	_, err := a.s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id,
		TaskQueue: api.QueueOrchestrator, WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL},
		api.WorkflowRelease, api.ReleaseRequest{Service: service, Environment: "prod", Commit: commit,
			Authors: []string{"alice"}, Requester: "rita", Title: "attack: " + service})
	return id, err
}

// startReleases starts the releases the attacks aim at, all at once, and
// waits for each at its review gate; it then drives the reference release
// to deployed the honest way in the background, and takes the releases
// that wait at the approval gate past review (bob, through the gateway).
func (a *attackRun) startReleases(ctx context.Context, t *testing.T) {
	purposes := map[string]string{"bob": "forged-review", "carol": "forged-carol", "dave": "forged-dave",
		"cancel": "forged-cancel", "ref": "attack-ref", "replay": "attack-ref", "flood": "flood"}
	var wg sync.WaitGroup
	errs := make(chan error, len(purposes))
	for purpose, service := range purposes {
		id, err := a.startRelease(ctx, service, commitOf(service))
		require(t, err)
		a.releases[purpose] = id
		wg.Go(func() { errs <- a.s.WaitStatus(ctx, id, api.StatusAwaitingReview) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require(t, err)
	}
	a.aim(a.releases["bob"], a.releases["carol"], a.releases["dave"], a.releases["cancel"], a.releases["replay"])
	go a.deployRef(ctx)
	for _, who := range []string{"carol", "dave"} {
		require(t, a.legit(ctx, a.releases[who], "review", "bob"))
	}
	for _, who := range []string{"carol", "dave"} {
		require(t, a.s.WaitStatus(ctx, a.releases[who], api.StatusAwaitingApproval))
	}
}

// legit sends who's approval of gate through the gateway: it must be accepted.
func (a *attackRun) legit(ctx context.Context, id, gate, who string) error {
	code, ans, err := a.s.decide(ctx, id, gate, "approve", who, gate+"-"+who)
	if err == nil && (code != 200 || ans.Outcome != api.OutcomeAccepted) {
		err = fmt.Errorf("%d %+v", code, ans)
	}
	if err != nil {
		return fmt.Errorf("%s approving %s at %s through the gateway: %w", who, id, gate, err)
	}
	return nil
}

// approveAll takes a release through both gates the honest way.
func (a *attackRun) approveAll(ctx context.Context, id string) error {
	if err := a.legit(ctx, id, "review", "bob"); err != nil {
		return err
	}
	if err := a.s.WaitStatus(ctx, id, api.StatusAwaitingApproval); err != nil {
		return err
	}
	for _, who := range []string{"carol", "dave"} {
		if err := a.legit(ctx, id, "approval", who); err != nil {
			return err
		}
	}
	return nil
}

// deployRef deploys the reference release and reads what an attacker
// could: its result and its audit trail with the envelopes in it.
func (a *attackRun) deployRef(ctx context.Context) {
	defer close(a.refDone)
	r := &a.ref
	r.id = a.releases["ref"]
	if r.err = a.approveAll(ctx, r.id); r.err != nil {
		return
	}
	if r.result, r.err = a.result(ctx, r.id); r.err != nil {
		return
	}
	if r.result.Status != api.StatusDeployed {
		r.err = fmt.Errorf("the reference release ended %s (%s)", r.result.Status, r.result.Reason)
		return
	}
	st, err := stacktest.Query[api.Status](ctx, a.s.Client, r.id, api.QueryStatus)
	if r.err = err; err != nil {
		return
	}
	r.req = st.Request
	if r.entries, r.err = a.s.Trail(ctx, r.id); r.err != nil {
		return
	}
	r.decision = map[string]attest.Envelope{}
	for _, e := range r.entries {
		if e.Type == audit.EventDecision {
			gate := "approval"
			if strings.Contains(e.Detail, "at gate review") {
				gate = "review"
			}
			r.decision[gate+"/"+e.Actor] = attest.Envelope(e.Envelope)
		}
	}
	if len(r.decision) != 3 {
		r.err = fmt.Errorf("the reference release's trail holds %d accepted decisions, want 3", len(r.decision))
	}
}

// reference waits for the deployed reference release.
func (a *attackRun) reference(ctx context.Context, t *testing.T) ref {
	select {
	case <-a.refDone:
	case <-ctx.Done():
		t.Fatal("the reference release did not deploy in time")
	}
	require(t, a.ref.err)
	return a.ref
}

// result waits for a release's result.
func (a *attackRun) result(ctx context.Context, id string) (api.ReleaseResult, error) {
	return stacktest.Retry(ctx, func(ctx context.Context) (api.ReleaseResult, error) {
		return api.ResultOf(ctx, a.s.Client.GetWorkflow(ctx, id, ""))
	})
}

// binding is what a decision on release must be bound to.
func (a *attackRun) binding(ctx context.Context, id string) (api.Binding, error) {
	return stacktest.Query[api.Binding](ctx, a.s.Client, id, api.QueryBinding)
}

// decision is a decision statement as the gateway would write it, bound to
// the release's real binding.
func decisionStatement(bd api.Binding, rid, gate, who, channel string) attest.Decision {
	ev := attest.Evidence{Kind: "token", TokenFingerprint: "0123456789abcdef"}
	if channel == api.ChannelSlack {
		ev = attest.Evidence{Kind: "slack", SlackTeam: slackTeam, SlackUser: "U0" + strings.ToUpper(who) + "01",
			ActionTS: "1700000001.000200"}
	}
	return attest.Decision{Binding: attest.Binding{Release: bd.ReleaseID, PolicySHA256: bd.PolicyHash},
		RequestID: rid, Gate: gate, Verdict: api.VerdictApprove, Identity: who, Channel: channel,
		Comment: "lgtm", Evidence: ev, At: time.Now().UTC()}
}

// update sends a signed request (env may be nil) as the named Update,
// straight to Temporal, and waits for its outcome.
func (a *attackRun) update(ctx context.Context, id, updateID, name string, env attest.Envelope, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h, err := a.s.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{UpdateID: updateID, WorkflowID: id,
		UpdateName: name, Args: []any{api.SignedRequest{Envelope: env}},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return err
	}
	return h.Get(ctx, out)
}

// refusedUnsigned: the Update was answered refused as unverified (code),
// and the refusal is in the trail with no actor.
func (a *attackRun) refusedUnsigned(ctx context.Context, id, updateID, code string, o api.DecisionOutcome) error {
	if o.Outcome != api.OutcomeRefused || o.Rule != api.RuleUnverified {
		return fmt.Errorf("answered %s (%s: %s), want refused as unverified", o.Outcome, o.Rule, o.Reason)
	}
	e, err := a.s.unsignedRefusal(ctx, id, updateID)
	if err == nil && !strings.Contains(e.Detail, code) {
		err = fmt.Errorf("recorded refusal %q does not say %s", e.Detail, code)
	}
	return err
}

// stillAwaiting: the release still waits at gate, nobody but signers signed it.
func (a *attackRun) stillAwaiting(ctx context.Context, id, gate string, signers ...string) error {
	st, err := stacktest.Query[api.Status](ctx, a.s.Client, id, api.QueryStatus)
	if err != nil {
		return err
	}
	var signed []string
	for _, sg := range st.Signed {
		signed = append(signed, sg.Identity)
	}
	if st.Status != "awaiting_"+gate || st.OpenGate != gate || strings.Join(signed, ",") != strings.Join(signers, ",") {
		return fmt.Errorf("release is %s at gate %q signed by %v, want awaiting_%s signed by %v", st.Status, st.OpenGate, signed, gate, signers)
	}
	return nil
}

// forgedDecisions: bob at review, carol and dave at approval, through each
// channel, sent straight to Temporal by a client that is not the gateway:
// as the decision signal, and as the decide Update unsigned, signed with a
// key of the attacker's own, or signed with the build role's real key.
func (a *attackRun) forgedDecisions(ctx context.Context, t *testing.T) {
	for _, target := range []struct{ who, gate string }{{"bob", "review"}, {"carol", "approval"}, {"dave", "approval"}} {
		id := a.releases[target.who]
		bd, err := a.binding(ctx, id)
		require(t, err)
		for _, ch := range []string{api.ChannelAPI, api.ChannelSlack, api.ChannelCLI} {
			name := fmt.Sprintf("%s at %s via %s", target.who, target.gate, ch)
			rid := func(form string) string { return fmt.Sprintf("forged-%s-%s-%s", target.who, ch, form) }
			a.attempt(t, "forged decision", name+" as the decision signal", func() error {
				d := api.Decision{RequestID: rid("signal"), Gate: target.gate, Verdict: api.VerdictApprove,
					Identity: target.who, Channel: ch, Comment: "lgtm"}
				if err := a.s.Client.SignalWorkflow(ctx, id, "", api.SignalDecision, d); err != nil {
					return err
				}
				e, err := a.s.unsignedRefusal(ctx, id, rid("signal"))
				if err == nil && !strings.Contains(e.Detail, "a decision signal carries no signature") {
					err = fmt.Errorf("recorded refusal %q", e.Detail)
				}
				return err
			})
			for _, f := range a.forgeries() {
				a.attempt(t, "forged decision", name+" as the decide Update, "+f.form, func() error {
					var env attest.Envelope
					if f.signer != nil {
						var err error
						env, err = f.signer.Attest(attest.ArtifactSubject(bd.ArtifactDigest), attest.PredicateDecision,
							decisionStatement(bd, rid(f.form), target.gate, target.who, ch))
						if err != nil {
							return err
						}
					}
					var o api.DecisionOutcome
					if err := a.update(ctx, id, rid(f.form), api.UpdateDecide, env, &o); err != nil {
						return err
					}
					return a.refusedUnsigned(ctx, id, rid(f.form), f.code, o)
				})
			}
		}
		if err := a.stillAwaiting(ctx, id, target.gate); err != nil {
			t.Errorf("after the forged decisions of %s: %v", target.who, err)
		}
	}
}

// forgedCancels: rita (the requester, who may cancel) claimed by a client
// that is not the gateway; the release keeps running.
func (a *attackRun) forgedCancels(ctx context.Context, t *testing.T) {
	id := a.releases["cancel"]
	a.attempt(t, "forged cancel", "cancel signal as rita", func() error {
		c := api.CancelRequest{RequestID: "forged-cancel-signal", Identity: "rita", Channel: api.ChannelCLI, Reason: "forged"}
		if err := a.s.Client.SignalWorkflow(ctx, id, "", api.SignalCancel, c); err != nil {
			return err
		}
		e, err := a.s.unsignedRefusal(ctx, id, c.RequestID)
		if err == nil && !strings.Contains(e.Detail, "a cancel signal carries no signature") {
			err = fmt.Errorf("recorded refusal %q", e.Detail)
		}
		return err
	})
	for _, f := range a.forgeries() {
		a.attempt(t, "forged cancel", "cancel Update as rita, "+f.form, func() error {
			rid := "forged-cancel-" + f.form
			var env attest.Envelope
			if f.signer != nil {
				var err error
				env, err = f.signer.Attest(attest.ReleaseSubject(id), attest.PredicateCancel, attest.Cancel{
					Binding:   attest.Binding{Release: id, PolicySHA256: a.hash},
					RequestID: rid, Identity: "rita", Channel: api.ChannelCLI, Reason: "forged",
					Evidence: attest.Evidence{Kind: "token", TokenFingerprint: "0123456789abcdef"}, At: time.Now().UTC()})
				if err != nil {
					return err
				}
			}
			var o api.CancelOutcome
			if err := a.update(ctx, id, rid, api.UpdateCancel, env, &o); err != nil {
				return err
			}
			if o.Outcome != api.OutcomeRefused || o.Rule != api.RuleUnverified {
				return fmt.Errorf("answered %s (%s: %s), want refused as unverified", o.Outcome, o.Rule, o.Reason)
			}
			e, err := a.s.unsignedRefusal(ctx, id, rid)
			if err == nil && !strings.Contains(e.Detail, f.code) {
				err = fmt.Errorf("recorded refusal %q does not say %s", e.Detail, f.code)
			}
			return err
		})
	}
	if err := a.stillAwaiting(ctx, id, "review"); err != nil {
		t.Errorf("after the forged cancels: %v", err)
	}
	entries, err := a.s.Trail(ctx, id)
	require(t, err)
	for _, e := range entries {
		if e.Type == audit.EventCancelRequested {
			t.Errorf("a forged cancel was taken: %+v", e)
		}
	}
}

// replayedEnvelopes: decisions the gateway really signed, read from a
// deployed release's trail, sent to another release of the same artifact
// (same service and commit) at its review and approval gates; and a
// release's own review decision sent again at its approval gate under a
// new update id.
func (a *attackRun) replayedEnvelopes(ctx context.Context, t *testing.T) {
	r := a.reference(ctx, t)
	id := a.releases["replay"]
	bd, err := a.binding(ctx, id)
	require(t, err)
	if bd.ArtifactDigest != r.result.ArtifactDigest {
		t.Fatalf("the replay target built %s, not the reference's artifact %s", bd.ArtifactDigest, r.result.ArtifactDigest)
	}
	misbound := func(name, gate, key string) {
		a.attempt(t, "replayed envelope", name, func() error {
			uid := "replay-" + strings.ReplaceAll(key, "/", "-")
			var o api.DecisionOutcome
			if err := a.update(ctx, id, uid, api.UpdateDecide, r.decision[key], &o); err != nil {
				return err
			}
			if err := a.refusedUnsigned(ctx, id, uid, attest.CodeMisbound, o); err != nil {
				return err
			}
			if !strings.Contains(o.Reason, fmt.Sprintf("bound to release %q", r.id)) {
				return fmt.Errorf("refused for %q, want as bound to another release", o.Reason)
			}
			return a.stillAwaiting(ctx, id, gate)
		})
	}
	misbound("bob's accepted review decision of another release, at the review gate", "review", "review/bob")
	require(t, a.legit(ctx, id, "review", "bob"))
	require(t, a.s.WaitStatus(ctx, id, api.StatusAwaitingApproval))
	misbound("carol's accepted approval of another release, at the approval gate", "approval", "approval/carol")
	a.attempt(t, "replayed envelope", "bob's review decision again, at the approval gate, under a new update id", func() error {
		entries, err := a.s.Trail(ctx, id)
		if err != nil {
			return err
		}
		var own attest.Envelope
		for _, e := range entries {
			if e.Type == audit.EventDecision {
				own = attest.Envelope(e.Envelope)
			}
		}
		var o api.DecisionOutcome
		if err := a.update(ctx, id, "replay-own-review-at-approval", api.UpdateDecide, own, &o); err != nil {
			return err
		}
		if o.Outcome != api.OutcomeAccepted || o.Gate != "review" {
			return fmt.Errorf("answered %+v; want the request's first outcome (accepted at gate review) again", o)
		}
		if err := a.stillAwaiting(ctx, id, "approval"); err != nil {
			return err
		}
		after, err := a.s.Trail(ctx, id)
		if err == nil && len(after) != len(entries) {
			err = fmt.Errorf("the trail grew from %d to %d entries: the envelope counted again", len(entries), len(after))
		}
		return err
	})
}

// cleanUp cancels the attacked releases still running, through the gateway
// as rita: the honest cancel still works where the forged ones did not.
func (a *attackRun) cleanUp(ctx context.Context, t *testing.T) {
	a.mu.Lock()
	ids := append([]string(nil), a.ids...)
	a.mu.Unlock()
	for _, id := range ids {
		desc, err := a.s.Client.DescribeWorkflowExecution(ctx, id, "")
		if err != nil || desc.GetWorkflowExecutionInfo().GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			continue // a made-up id, or a release that ended
		}
		body := fmt.Sprintf(`{"release_id":%q,"reason":"end of the attacks","request_id":"cleanup"}`, id)
		code, got, err := a.s.post(ctx, "/v1/cancels", "Bearer "+a.s.Tokens["rita"], []byte(body), nil)
		for try := 0; err == nil && code == http.StatusTooManyRequests && try < 10; try++ {
			time.Sleep(time.Second) // rita's rate limit: the hijack attacks leave many releases to cancel
			code, got, err = a.s.post(ctx, "/v1/cancels", "Bearer "+a.s.Tokens["rita"], []byte(body), nil)
		}
		if err != nil || code != 200 {
			t.Errorf("cancelling %s as rita through the gateway: %d %v %v", id, code, got, err)
		}
	}
}

// deploys counts what the deploy role ran for the attacked ids.
func (a *attackRun) deploys() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.s.deployed(a.ids...)
}

// deployed counts, for ids, deploy command runs and deployment records
// naming them.
func (s *stackT) deployed(ids ...string) int {
	var records []string
	_ = filepath.WalkDir(filepath.Join(s.Local.DataDir, "deployments"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".json.prev")) {
			if data, err := os.ReadFile(path); err == nil {
				records = append(records, string(data))
			}
		}
		return nil
	})
	n := 0
	for _, id := range ids {
		started, _ := s.deployRuns(id)
		n += started
		for _, rec := range records {
			if strings.Contains(rec, `"`+id+`"`) {
				n++
			}
		}
	}
	return n
}

func (a *attackRun) report(t *testing.T, took time.Duration) {
	tried, refused := 0, 0
	var parts []string
	for _, k := range attackKinds {
		tried, refused = tried+a.tried[k], refused+a.refused[k]
		parts = append(parts, fmt.Sprintf("%s %d/%d", k, a.refused[k], a.tried[k]))
	}
	deploys := a.deploys()
	if deploys != 0 {
		t.Errorf("the attacks deployed %d times", deploys)
	}
	figures.Report(t, "attacks tried %d / refused %d (nothing deployed by any: deploys %d); %s; %.0fs",
		tried, refused, deploys, strings.Join(parts, ", "), took.Seconds())
	if f := a.flood; f.total > 0 {
		figures.Report(t, "flood of %d refused decisions on one release in %.1fs: %d decide Updates straight to Temporal (%d answered refused, %d rejected unrecorded, %d errors) and %d through the gateway as the author (%d refused, %d answered 429 with Retry-After; %d of them answered 202 pending first and were sent again); its trail holds %s; history %d events; then deployed with bob, carol and dave's decisions",
			f.total, f.took.Seconds(), f.updates, f.answered, f.rejected, f.errors, f.gateway, f.forbidden, f.limited,
			f.pending, f.trail, f.history)
	}
}

// forgery is one way to sign a request without the approval role's key,
// and the code the workflow must refuse it with.
type forgery struct {
	form, code string
	signer     *attest.Signer // nil: no envelope at all
}

// forgeries: no signature, a key nobody lists, and the build role's real key.
func (a *attackRun) forgeries() []forgery {
	return []forgery{{"unsigned", attest.CodeUnsigned, nil},
		{"fresh-key", attest.CodeBadSignature, attest.NewSigner(attest.RoleApproval, a.attacker)},
		{"build-key", attest.CodeWrongRole, a.stolen}}
}
