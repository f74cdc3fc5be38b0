package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/figures"
	"github.com/foureyes/foureyes/internal/testkeys"
	"github.com/foureyes/foureyes/policy"
)

// The separation property: whatever decisions arrive, by whomever, against
// whatever policy, a release reaches deploy only if every separation rule
// and the quorum held for each signer of each gate. Random policies and
// decision sequences run through the real workflow (fake activities); an
// oracle written here, not policy.Decide, says what must happen.
//
// FOUREYES_PROPERTY_CASES (default 500) and FOUREYES_PROPERTY_SEED (default
// 1) set the run; a failure names its seed and case.

var services = []string{"foureyes-orchestrator", "foureyes-build", "foureyes-review", "foureyes-approval", "foureyes-deploy"}

// propCase is one random policy, release and decision sequence.
type propCase struct {
	pol       policy.Policy
	req       api.ReleaseRequest
	buildExec string // the build stage's executor (sometimes a human's host)
	decisions []propDecision
	// gitAuthors wrote the change's commits (their emails are attested);
	// stranger: a commit email that maps to nobody is among them.
	gitAuthors []string
	stranger   bool
}

// emails are the commit emails the build role attests.
func (c propCase) emails() []string {
	var out []string
	for _, a := range c.gitAuthors {
		out = append(out, a+"@x")
	}
	if c.stranger {
		out = append(out, "stranger@nowhere.example")
	}
	return out
}

// propDecision arrives at minute 5i+1; deadlines and freeze edges end in :30
// seconds, so nothing ties with a deadline.
type propDecision struct {
	at                           time.Duration
	rid, gate, verdict, identity string
	form                         string // how it arrives: one of forms
	comment                      string // a rejection without one is refused
}

// forms a decision arrives in: only formSigned may count; the others are
// what a holder of namespace access can send without the approval key.
const (
	formSigned   = "signed"   // an Update signed by the approval role, bound to this release
	formSignal   = "signal"   // the unsigned decision signal
	formOutsider = "outsider" // an Update signed with a key the policy does not list
	formMisbound = "misbound" // an Update signed by the approval role for another release
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func TestSeparationProperty(t *testing.T) {
	n, seed := envInt("FOUREYES_PROPERTY_CASES", 500), envInt("FOUREYES_PROPERTY_SEED", 1)
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	stats := map[string]int{}
	for i := range n {
		c := genCase(rng)
		got := runCase(t, c)
		want := oracle(c)
		stats[want.status]++
		stats["decisions"] += len(c.decisions)
		if problems := compare(c, got, want); len(problems) > 0 {
			t.Fatalf("seed %d case %d (FOUREYES_PROPERTY_SEED=%d FOUREYES_PROPERTY_CASES=%d):\n%s\npolicy %s\nrequest %+v\ndecisions %+v",
				seed, i, seed, i+1, strings.Join(problems, "\n"), mustJSON(c.pol), c.req, c.decisions)
		}
	}
	figures.Report(t, "property cases run %d (seed %d; %d decisions): deployed %d, rejected %d, expired %d; no deploy without every separation rule and the quorum (independent oracle)",
		n, seed, stats["decisions"], stats[api.StatusDeployed], stats[api.StatusRejected], stats[api.StatusExpired])
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// --- generation ---

func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }

func subset(rng *rand.Rand, list []string, p float64) []string {
	var out []string
	for _, s := range list {
		if rng.Float64() < p {
			out = append(out, s)
		}
	}
	return out
}

// genCase draws until the policy is valid (policy.Parse: its validation,
// not its rules, is what real policies go through).
func genCase(rng *rand.Rand) propCase {
	for {
		pol := genPolicy(rng)
		data, _ := json.Marshal(pol)
		if _, err := policy.Parse("prop.json", data); err != nil {
			continue
		}
		return genRelease(rng, pol)
	}
}

func genPolicy(rng *rand.Rand) policy.Policy {
	groups := []string{"g0", "g1", "g2"}
	p := policy.Policy{Version: 1, ServiceIdentities: services, ReleaseManagers: []string{"g0"}}
	for i := range 6 {
		p.Humans = append(p.Humans, policy.Human{ID: fmt.Sprintf("h%d", i), Email: fmt.Sprintf("h%d@x", i),
			Groups: subset(rng, groups, 0.6)})
	}
	for i := range 2 {
		gates := subset(rng, policy.Gates, 0.6)
		if len(gates) == 0 {
			gates = []string{pick(rng, policy.Gates)}
		}
		p.Bots = append(p.Bots, policy.Bot{ID: fmt.Sprintf("b%d", i), TokenSHA256: strings.Repeat(strconv.Itoa(i), 64),
			Gates: gates, Groups: subset(rng, groups, 0.4)})
	}
	p.Humans[0].Groups = append(p.Humans[0].Groups, "g0") // release managers exist
	rules := map[string]policy.GateRule{}
	for _, g := range policy.Gates {
		rules[g] = genRule(rng, groups)
	}
	p.Environments = map[string]policy.Environment{"prod": {Gates: rules,
		UnmappedEmails: pick(rng, []string{"", policy.UnmappedBlock, policy.UnmappedAllow})}}
	p.Services = map[string]policy.Service{"svc": {Repository: testRepo}}
	return p
}

func genRule(rng *rand.Rand, groups []string) policy.GateRule {
	ids := []string{"h0", "h1", "h2", "h3", "h4", "h5", "b0", "b1"}
	r := policy.GateRule{Groups: subset(rng, groups, 0.5), Identities: subset(rng, ids, 0.15),
		Quorum: pick(rng, []int{1, 1, 1, 2, 2, 3}), BotsCount: rng.IntN(2) == 0,
		Deadline: policy.Duration(time.Duration(3+rng.IntN(12))*10*time.Minute + 30*time.Second)}
	if rng.IntN(6) == 0 {
		start := t0.Add(time.Duration(rng.IntN(10)-3)*10*time.Minute + 30*time.Second)
		r.Freeze = []policy.Window{{Start: start, End: start.Add(time.Duration(1+rng.IntN(4)) * 10 * time.Minute),
			Reason: "property freeze"}}
	}
	return r
}

func genRelease(rng *rand.Rand, pol policy.Policy) propCase {
	humans := []string{"h0", "h1", "h2", "h3", "h4", "h5"}
	c := propCase{pol: pol, buildExec: "foureyes-build@h",
		req: api.ReleaseRequest{Service: "svc", Environment: "prod", Commit: testCommit, Title: "property",
			Authors: subset(rng, humans, 0.1), Requester: pick(rng, humans)},
		gitAuthors: append([]string{pick(rng, humans)}, subset(rng, humans, 0.1)...), stranger: rng.IntN(10) == 0}
	if rng.IntN(3) == 0 {
		c.req.Commit = "main" // a branch, resolved by the build role
	}
	if rng.IntN(8) == 0 {
		c.buildExec = pick(rng, humans) + "@ci" // a person's machine ran the build
	}
	pool := append(append([]string{}, humans...), "b0", "b1", "mallory", "", "foureyes-review",
		"foureyes-deploy@h", "foureyes-build@h", c.req.Requester, c.gitAuthors[0])
	n := 4 + rng.IntN(16)
	for i := range n {
		c.decisions = append(c.decisions, genDecision(rng, c, i, n, pool))
	}
	return c
}

// genDecision aims at the review gate early and the approval gate late
// (with noise), so that many releases get far enough to matter.
func genDecision(rng *rand.Rand, c propCase, i, n int, pool []string) propDecision {
	gate := "review"
	if i >= n/2 {
		gate = "approval"
	}
	if rng.IntN(5) == 0 {
		gate = pick(rng, []string{"review", "approval", "deploy"})
	}
	verdict := api.VerdictApprove
	if k := rng.IntN(20); k == 0 {
		verdict = api.VerdictReject
	} else if k == 1 {
		verdict = "maybe"
	}
	who := pick(rng, pool)
	if named := named(c.pol, gate); len(named) > 0 && rng.IntN(3) > 0 {
		who = pick(rng, named) // someone the rule names, whom the separation rules may still refuse
	}
	d := propDecision{at: time.Duration(5*i+1) * time.Minute, rid: fmt.Sprintf("d%d", i),
		gate: gate, verdict: verdict, identity: who, form: formSigned}
	if rng.IntN(2) == 0 {
		d.comment = "because " + who
	}
	if rng.IntN(5) == 0 {
		d.form = pick(rng, []string{formSignal, formOutsider, formMisbound})
	}
	if i > 0 && rng.IntN(7) == 0 {
		d.rid = c.decisions[rng.IntN(i)].rid // a duplicate delivery, maybe with other content
	}
	return d
}

// named lists who the gate's rule names, by identity or group.
func named(p policy.Policy, gate string) []string {
	r := p.Environments["prod"].Gates[gate]
	var out []string
	in := func(groups []string) bool {
		return slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(r.Groups, g) })
	}
	for _, h := range p.Humans {
		if slices.Contains(r.Identities, h.ID) || in(h.Groups) {
			out = append(out, h.ID)
		}
	}
	for _, b := range p.Bots {
		if slices.Contains(r.Identities, b.ID) || in(b.Groups) {
			out = append(out, b.ID)
		}
	}
	return out
}

// --- the real workflow ---

// propRoles are the role activities; they count deploys.
type propRoles struct {
	pol       policy.Policy
	buildExec string
	emails    []string // who wrote the change's commits
	mu        sync.Mutex
	deploys   int
}

func (f *propRoles) LoadPolicy(context.Context, api.LoadPolicyInput) (policy.Snapshot, error) {
	return policy.Snapshot{Content: policyContent(f.pol), Path: "prop.json"}, nil
}

func (f *propRoles) Build(_ context.Context, in api.BuildInput) (api.BuildResult, error) {
	return signedBuild(in, f.buildExec, f.emails...), nil
}

func (f *propRoles) Deployed(_ context.Context, in api.DeployedInput) (api.DeployedResult, error) {
	return signedDeployed(in, ""), nil
}

func (f *propRoles) Review(_ context.Context, in api.ReviewInput) (api.ReviewResult, error) {
	return signedReview(in, true, "foureyes-review@h"), nil
}

func (f *propRoles) Seal(_ context.Context, in api.SealInput) (api.SealResult, error) {
	return signedSeal(in), nil
}

func (f *propRoles) Notify(context.Context, api.Notification) (api.NotifyResult, error) {
	return api.NotifyResult{Ref: "m", Executor: "foureyes-approval@h"}, nil
}

func (f *propRoles) Deploy(_ context.Context, in api.DeployInput) (api.StepResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deploys++
	return signedStep(in, attest.StepDeploy, true, "", "foureyes-deploy@h"), nil
}

func (f *propRoles) Verify(_ context.Context, in api.DeployInput) (api.StepResult, error) {
	return signedStep(in, attest.StepVerify, true, "", "foureyes-deploy@h"), nil
}

func (f *propRoles) Rollback(_ context.Context, in api.DeployInput) (api.StepResult, error) {
	return signedStep(in, attest.StepRollback, true, "", "foureyes-deploy@h"), nil
}

// propResult is what the workflow did.
type propResult struct {
	status   string
	deploys  int
	outcomes map[string]string // request id -> outcome
	entries  []audit.Entry
}

var quiet = log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

func runCase(t *testing.T, c propCase) propResult {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet)
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	roles := &propRoles{pol: c.pol, buildExec: c.buildExec, emails: c.emails()}
	for name, fn := range map[string]any{"LoadPolicy": roles.LoadPolicy, "Build": roles.Build, "Review": roles.Review,
		"Notify": roles.Notify, "Deploy": roles.Deploy, "Verify": roles.Verify, "Rollback": roles.Rollback,
		"Seal": roles.Seal, "Deployed": roles.Deployed} {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	b := attest.Binding{Release: testWorkflowID, PolicySHA256: policy.HashBytes(policyContent(c.pol))}
	for i, d := range c.decisions {
		env.RegisterDelayedCallback(func() { send(env, b, i, d) }, d.at)
	}
	env.ExecuteWorkflow(Release, c.req)
	var res api.ReleaseResult
	if err := releaseResult(env, &res); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	return propResult{status: res.Status, deploys: roles.deploys, outcomes: queryOutcomes(t, env, c), entries: queryTrail(t, env)}
}

// send delivers one decision in its form. Forged updates get an id of their
// own: an update id already used would be answered from Temporal's cache.
func send(env *testsuite.TestWorkflowEnvironment, b attest.Binding, i int, d propDecision) {
	dec := api.Decision{RequestID: d.rid, Gate: d.gate, Verdict: d.verdict, Identity: d.identity, Channel: api.ChannelAPI,
		Comment: d.comment}
	digest, role, id := digestOf(testCommit), attest.RoleApproval, d.rid
	switch d.form {
	case formSignal:
		env.SignalWorkflow(api.SignalDecision, dec)
		return
	case formOutsider:
		role, id = testkeys.Outsider, fmt.Sprintf("forged-%d", i)
	case formMisbound:
		b.Release, id = "another-release", fmt.Sprintf("forged-%d", i)
	}
	env.UpdateWorkflow(api.UpdateDecide, id, &testsuite.TestUpdateCallback{OnAccept: func() {},
		OnReject: func(error) {}, OnComplete: func(any, error) {}},
		api.SignedRequest{Envelope: signedDecision(role, b, scopeOf(env), digest, dec)})
}

func queryOutcomes(t *testing.T, env *testsuite.TestWorkflowEnvironment, c propCase) map[string]string {
	out := map[string]string{}
	for _, d := range c.decisions {
		v, err := env.QueryWorkflow(api.QueryDecision, d.rid)
		if err != nil {
			t.Fatal(err)
		}
		var o api.DecisionOutcome
		if err := v.Get(&o); err != nil {
			t.Fatal(err)
		}
		out[d.rid] = o.Outcome
	}
	return out
}

func queryTrail(t *testing.T, env *testsuite.TestWorkflowEnvironment) []audit.Entry {
	v, err := env.QueryWorkflow(api.QueryAudit)
	if err != nil {
		t.Fatal(err)
	}
	var a audit.Trail
	if err := v.Get(&a); err != nil {
		t.Fatal(err)
	}
	return a.Entries
}

// --- the oracle: the rules as the README states them, written afresh ---

type signature struct {
	identity, verdict string
	at                time.Duration
}

// oracleRun is the oracle's release: the open gate and who signed it.
type oracleRun struct {
	c        propCase
	gate     string // open gate, "" once the release ended
	opened   time.Duration
	signed   map[string][]signature // by gate
	status   string
	outcomes map[string]string
}

func oracle(c propCase) oracleRun {
	o := oracleRun{c: c, gate: "review", signed: map[string][]signature{}, status: "running", outcomes: map[string]string{}}
	for _, d := range c.decisions {
		o.expire(d.at)
		if o.status != "running" {
			break // the workflow has ended; later signals never arrive
		}
		if d.form != formSigned {
			continue // never counts, never takes the request id
		}
		if _, seen := o.outcomes[d.rid]; !seen {
			o.outcomes[d.rid] = o.judge(d)
		}
	}
	if o.status == "running" {
		o.status = api.StatusExpired // nobody decides any more: the open gate expires
	}
	return o
}

func (o *oracleRun) rule(gate string) policy.GateRule {
	return o.c.pol.Environments["prod"].Gates[gate]
}

func (o *oracleRun) expire(at time.Duration) {
	if o.gate != "" && at >= o.opened+o.rule(o.gate).Deadline.Std() {
		o.gate, o.status = "", api.StatusExpired
	}
}

// judge decides one decision and moves the release.
func (o *oracleRun) judge(d propDecision) string {
	switch {
	case d.verdict != api.VerdictApprove && d.verdict != api.VerdictReject:
		return api.OutcomeRefused
	case d.gate != o.gate:
		return api.OutcomeGateClosed
	case !o.allowed(d.gate, d.identity, d.verdict, d.at):
		return api.OutcomeRefused
	case d.verdict == api.VerdictReject && d.comment == "":
		return api.OutcomeRefused // a "no" says why
	}
	o.signed[d.gate] = append(o.signed[d.gate], signature{d.identity, d.verdict, d.at})
	switch {
	case d.verdict == api.VerdictReject:
		o.gate, o.status = "", api.StatusRejected
	case o.approvals(d.gate) >= o.rule(d.gate).Quorum && d.gate == "review":
		o.gate, o.opened = "approval", d.at
	case o.approvals(d.gate) >= o.rule(d.gate).Quorum:
		o.gate, o.status = "", api.StatusDeployed
	}
	return api.OutcomeAccepted
}

func (o *oracleRun) approvals(gate string) int {
	n := 0
	for _, s := range o.signed[gate] {
		if s.verdict == api.VerdictApprove {
			n++
		}
	}
	return n
}

// allowed is every rule for one signer, with what the oracle knows of the
// release at that moment.
func (o *oracleRun) allowed(gate, id, verdict string, at time.Duration) bool {
	c, r := o.c, o.rule(gate)
	human, bot := o.human(id), o.bot(id)
	switch {
	case human == nil && bot == nil: // unknown, service identities included
		return false
	case o.ranAStage(id), slices.Contains(c.req.Authors, id), slices.Contains(c.gitAuthors, id), id == c.req.Requester:
		return false
	case c.stranger && verdict == api.VerdictApprove && c.pol.Environments["prod"].UnmappedEmails != policy.UnmappedAllow:
		return false // a commit by someone the policy does not know
	case gate == "approval" && o.signedGate("review", id), o.signedGate(gate, id):
		return false
	case bot != nil && (!slices.Contains(bot.Gates, gate) || !r.BotsCount):
		return false
	case !o.eligible(r, human, bot, id):
		return false
	}
	return verdict == api.VerdictReject || !frozen(r, t0.Add(at))
}

func (o *oracleRun) ranAStage(id string) bool {
	for _, e := range []string{o.c.buildExec, "foureyes-review@h", "foureyes-approval@h"} {
		if e == id || strings.HasPrefix(e, id+"@") {
			return true
		}
	}
	return false
}

func (o *oracleRun) signedGate(gate, id string) bool {
	for _, s := range o.signed[gate] {
		if s.identity == id {
			return true
		}
	}
	return false
}

func (o *oracleRun) eligible(r policy.GateRule, human *policy.Human, bot *policy.Bot, id string) bool {
	groups := []string{}
	if human != nil {
		groups = human.Groups
	}
	if bot != nil {
		groups = bot.Groups
	}
	if slices.Contains(r.Identities, id) {
		return true
	}
	for _, g := range groups {
		if slices.Contains(r.Groups, g) {
			return true
		}
	}
	return false
}

func frozen(r policy.GateRule, now time.Time) bool {
	for _, w := range r.Freeze {
		if !now.Before(w.Start) && now.Before(w.End) {
			return true
		}
	}
	return false
}

func (o *oracleRun) human(id string) *policy.Human {
	for i, h := range o.c.pol.Humans {
		if h.ID == id {
			return &o.c.pol.Humans[i]
		}
	}
	return nil
}

func (o *oracleRun) bot(id string) *policy.Bot {
	for i, b := range o.c.pol.Bots {
		if b.ID == id {
			return &o.c.pol.Bots[i]
		}
	}
	return nil
}

// --- comparison ---

// compare: the safety property first, then full agreement with the oracle.
func compare(c propCase, got propResult, want oracleRun) []string {
	var problems []string
	if got.deploys > 0 {
		problems = append(problems, deploySafe(c, got.entries)...)
	}
	if got.status != want.status {
		problems = append(problems, fmt.Sprintf("status %s, oracle says %s", got.status, want.status))
	}
	if wantDeploys := map[bool]int{true: 1}[want.status == api.StatusDeployed]; got.deploys != wantDeploys {
		problems = append(problems, fmt.Sprintf("%d deploys, oracle says %d", got.deploys, wantDeploys))
	}
	for _, d := range c.decisions {
		w, delivered := want.outcomes[d.rid]
		if !delivered {
			w = api.OutcomePending
		}
		if got.outcomes[d.rid] != w {
			problems = append(problems, fmt.Sprintf("request %s (%s %s at %s): %s, oracle says %s",
				d.rid, d.identity, d.verdict, d.gate, got.outcomes[d.rid], w))
		}
	}
	return problems
}

// deploySafe checks a deployed release from its audit trail alone: each
// gate's accepted signers obey every rule, and reached the quorum.
func deploySafe(c propCase, entries []audit.Entry) []string {
	o := oracleRun{c: c, signed: map[string][]signature{}}
	var problems []string
	for _, e := range entries {
		if e.Type != audit.EventDecision {
			continue
		}
		gate := map[string]string{api.StageReview: "review", api.StageApprove: "approval"}[e.Stage]
		at := e.Time.Sub(t0)
		if !o.allowed(gate, e.Actor, e.Outcome, at) {
			problems = append(problems, fmt.Sprintf("deployed, yet %s's %s at %s breaks a rule", e.Actor, e.Outcome, gate))
		}
		o.signed[gate] = append(o.signed[gate], signature{e.Actor, e.Outcome, at})
	}
	for _, g := range policy.Gates {
		if o.approvals(g) < o.rule(g).Quorum {
			problems = append(problems, fmt.Sprintf("deployed with %d approvals at %s, quorum %d", o.approvals(g), g, o.rule(g).Quorum))
		}
	}
	return problems
}
