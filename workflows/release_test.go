package workflows

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"github.com/uber-go/tally/v4"
	enums "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	sdktally "go.temporal.io/sdk/contrib/tally"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/testkeys"
	"github.com/foureyes/foureyes/policy"
)

const testCommit = "0123456789abcdef0123456789abcdef01234567"

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// testPolicy: alice authors, rita requests, bob reviews (and owns prod, so
// that the earlier-signer rule is what refuses him), carol and dave approve.
func testPolicy() policy.Policy {
	day := policy.Duration(24 * time.Hour)
	return policy.Policy{
		Version: 1,
		Humans: []policy.Human{
			{ID: "alice", Email: "alice@example.com", Groups: []string{"devs", "prod-owners"}},
			{ID: "bob", Email: "bob@example.com", Groups: []string{"reviewers", "prod-owners"}},
			{ID: "carol", Email: "carol@example.com", Groups: []string{"prod-owners"}},
			{ID: "dave", Email: "dave@example.com", Groups: []string{"prod-owners"}},
			{ID: "rita", Email: "rita@example.com", Groups: []string{"release-managers", "prod-owners"}},
			{ID: "mallory", Email: "mallory@example.com", Groups: []string{"devs"}},
			{ID: "rm", Email: "rm@example.com", Groups: []string{"release-managers"}},
		},
		Bots: []policy.Bot{{ID: "ci-bot", TokenSHA256: string(bytes.Repeat([]byte("a"), 64)),
			Gates: []string{"review", "approval"}, Groups: []string{"reviewers", "prod-owners"}}},
		ServiceIdentities: []string{"foureyes-orchestrator", "foureyes-build", "foureyes-review", "foureyes-approval", "foureyes-deploy"},
		ReleaseManagers:   []string{"release-managers"},
		Services:          map[string]policy.Service{"payments": {Repository: testRepo}},
		Environments: map[string]policy.Environment{"prod": {Gates: map[string]policy.GateRule{
			"review":   {Groups: []string{"reviewers"}, Quorum: 1, BotsCount: true, Deadline: day},
			"approval": {Groups: []string{"prod-owners"}, Quorum: 2, Deadline: day},
		}}},
	}
}

// fakeRoles stands in for the four role workers; it records what ran.
type fakeRoles struct {
	mu  sync.Mutex
	pol policy.Policy
	// policyBytes replaces LoadPolicy's compressed answer; snapshotPolicy
	// answers a snapshot even when the bytes are asked for.
	policyBytes    func(content []byte) []byte
	snapshotPolicy bool
	policyDict     string // the dictionary LoadPolicy was asked for
	deployErr      error
	lostDeploys    int // attempts of Deploy whose worker is lost (a heartbeat timeout)
	verifyOK       bool
	deploys        int
	rollbacks      int
	notices        []api.Notification
	blockDeploy    func(ctx context.Context) error
	bundles        []*api.Bundle
	verifies       []api.DeployInput
	forgeBuild     func(api.BuildInput) api.BuildResult
	forgeReview    func(api.ReviewInput) api.ReviewResult
	forgeDeploy    bool // Deploy answers without a receipt
	// gitEmails write the change's commits (default: the declared authors');
	// deployed is what the deploy role says is deployed; forgeDeployed
	// replaces its answer.
	gitEmails     []string
	deployed      string
	forgeDeployed func(api.DeployedInput) api.DeployedResult
	// runs is what the deploy role says runs per environment (promotion
	// evidence); an environment missing here runs deployed.
	runs         map[string]attest.DeployedState
	builds       []api.BuildInput
	deployInputs []api.DeployInput
	sealing      func() // called while the seal is being signed
	// holdNotice runs before the approval role takes a notice and may hold
	// it (real time: the test environment's clock does not wait for
	// activities).
	holdNotice func(api.Notification)
	// noticeErr, when it returns an error, fails the notice with it.
	noticeErr func(api.Notification) error
	// onDeploy runs when Deploy is called.
	onDeploy func()
}

func (f *fakeRoles) Deployed(_ context.Context, in api.DeployedInput) (api.DeployedResult, error) {
	if f.forgeDeployed != nil {
		return f.forgeDeployed(in), nil
	}
	if st, ok := f.runs[in.Environment]; ok {
		return signedRun(in, st), nil
	}
	return signedDeployed(in, f.deployed), nil
}

// LoadPolicy claims a hash of its own: the workflow must compute it from the
// content. Asked for the compressed bytes alone (Bytes), it answers them (or
// what policyBytes makes of the content), unless told to answer a snapshot
// as an orchestrator not yet upgraded does (snapshotPolicy).
func (f *fakeRoles) LoadPolicy(_ context.Context, in api.LoadPolicyInput) (any, error) {
	content := policyContent(f.pol)
	f.mu.Lock()
	f.policyDict = in.Dict
	f.mu.Unlock()
	switch {
	case in.Bytes && f.policyBytes != nil:
		return f.policyBytes(content), nil
	case in.Bytes && in.Dict == policy.DictionarySampleV1 && !f.snapshotPolicy:
		return policy.CompressWithDictionary(content)
	case in.Bytes && !f.snapshotPolicy:
		return policy.Compress(content)
	}
	return policy.Snapshot{Content: content, Path: "test-policy.json", Hash: "feedface"}, nil
}

func (f *fakeRoles) Build(_ context.Context, in api.BuildInput) (api.BuildResult, error) {
	f.mu.Lock()
	f.builds = append(f.builds, in)
	f.mu.Unlock()
	if f.forgeBuild != nil {
		return f.forgeBuild(in), nil
	}
	return signedBuild(in, "foureyes-build@h", f.gitEmails...), nil
}

func (f *fakeRoles) Review(_ context.Context, in api.ReviewInput) (api.ReviewResult, error) {
	if f.forgeReview != nil {
		return f.forgeReview(in), nil
	}
	return signedReview(in, true, "foureyes-review@h"), nil
}

func (f *fakeRoles) Seal(_ context.Context, in api.SealInput) (api.SealResult, error) {
	if f.sealing != nil {
		f.sealing()
	}
	return signedSeal(in), nil
}

func (f *fakeRoles) Notify(_ context.Context, n api.Notification) (api.NotifyResult, error) {
	if f.holdNotice != nil {
		f.holdNotice(n)
	}
	if f.noticeErr != nil {
		if err := f.noticeErr(n); err != nil {
			return api.NotifyResult{}, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notices = append(f.notices, n)
	if n.Kind != api.NotifyPrompt {
		return api.NotifyResult{}, nil // as the approval role answers
	}
	return api.NotifyResult{Ref: "msg-" + n.Gate, Executor: "foureyes-approval@h"}, nil
}

func (f *fakeRoles) Deploy(ctx context.Context, in api.DeployInput) (api.StepResult, error) {
	if f.onDeploy != nil {
		f.onDeploy()
	}
	f.mu.Lock()
	f.deploys++
	f.bundles = append(f.bundles, in.Bundle)
	f.deployInputs = append(f.deployInputs, in)
	lost := f.deploys <= f.lostDeploys
	f.mu.Unlock()
	if lost {
		return api.StepResult{}, temporal.NewTimeoutError(enums.TIMEOUT_TYPE_HEARTBEAT, nil)
	}
	if f.blockDeploy != nil {
		return api.StepResult{}, f.blockDeploy(ctx)
	}
	if f.deployErr != nil {
		return api.StepResult{}, f.deployErr
	}
	if f.forgeDeploy {
		return api.StepResult{OK: true, Executor: "foureyes-deploy@h"}, nil
	}
	return signedStep(in, attest.StepDeploy, true, "", "foureyes-deploy@h"), nil
}

func (f *fakeRoles) Verify(_ context.Context, in api.DeployInput) (api.StepResult, error) {
	f.mu.Lock()
	f.verifies = append(f.verifies, in)
	f.mu.Unlock()
	return signedStep(in, attest.StepVerify, f.verifyOK, "verified", "foureyes-deploy@h"), nil
}

func (f *fakeRoles) Rollback(_ context.Context, in api.DeployInput) (api.StepResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rollbacks++
	return signedStep(in, attest.StepRollback, true, "restored", "foureyes-deploy@h"), nil
}

type ReleaseSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env     *testsuite.TestWorkflowEnvironment
	roles   *fakeRoles
	updates map[string]error // update id -> nil when completed, the rejection otherwise
	scope   tally.TestScope  // the workflow's metrics
}

func TestRelease(t *testing.T) { suite.Run(t, new(ReleaseSuite)) }

func (s *ReleaseSuite) SetupTest() {
	// The test environment logs every activity at debug; keep test output readable.
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr,
		&slog.HandlerOptions{Level: slog.LevelWarn}))))
	s.scope = tally.NewTestScope("", nil)
	s.SetMetricsHandler(sdktally.NewMetricsHandler(s.scope))
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(t0)
	s.roles = &fakeRoles{pol: testPolicy(), verifyOK: true}
	for name, fn := range map[string]any{
		"LoadPolicy": s.roles.LoadPolicy, "Build": s.roles.Build, "Review": s.roles.Review,
		"Notify": s.roles.Notify, "Deploy": s.roles.Deploy, "Verify": s.roles.Verify, "Rollback": s.roles.Rollback,
		"Seal": s.roles.Seal, "Deployed": s.roles.Deployed,
	} {
		s.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}

// TearDownTest: whatever a test refused, each refusal was counted under
// its rule's code, never "other" (a refusal made without a code).
func (s *ReleaseSuite) TearDownTest() {
	for _, c := range s.scope.Snapshot().Counters() {
		if c.Name() == MetricDecisions {
			s.NotEqual("other", c.Tags()["reason"], "a decision counted without a rule code: %v", c.Tags())
		}
	}
}

func request() api.ReleaseRequest {
	return api.ReleaseRequest{Service: "payments", Environment: "prod", Commit: testCommit,
		Authors: []string{"alice"}, Requester: "rita", Title: "t"}
}

// decide sends a decision signed by the approval role after the given workflow time.
func (s *ReleaseSuite) decide(after time.Duration, id, gate, who, verdict string) {
	s.decideSigned(after, attest.RoleApproval, s.binding(), digestOf(testCommit), api.Decision{RequestID: id, Gate: gate,
		Verdict: verdict, Identity: who, Channel: api.ChannelAPI, Comment: who + " says " + verdict})
}

// binding is what the gateway would bind a decision on the test release to.
func (s *ReleaseSuite) binding() attest.Binding {
	return attest.Binding{Release: testWorkflowID, PolicySHA256: policy.HashBytes(policyContent(s.roles.pol))}
}

// decideSigned sends d as an Update signed with role's key, bound to b and digest.
func (s *ReleaseSuite) decideSigned(after time.Duration, role string, b attest.Binding, digest string, d api.Decision) {
	s.env.RegisterDelayedCallback(func() {
		s.update(api.UpdateDecide, d.RequestID, api.SignedRequest{Envelope: signedDecision(role, b, scopeOf(s.env), digest, d)})
	}, after)
}

// update sends an Update and keeps how it ended under its id.
func (s *ReleaseSuite) update(name, id string, req api.SignedRequest) {
	if s.updates == nil {
		s.updates = map[string]error{}
	}
	s.env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
		OnAccept: func() {}, OnReject: func(err error) { s.updates[id] = err },
		OnComplete: func(any, error) { s.updates[id] = nil },
	}, req)
}

func (s *ReleaseSuite) approveAll() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.decide(2*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.decide(3*time.Minute, "a2", "approval", "dave", api.VerdictApprove)
}

func (s *ReleaseSuite) run() api.ReleaseResult {
	s.env.ExecuteWorkflow(Release, request())
	s.True(s.env.IsWorkflowCompleted())
	return s.closed()
}

func (s *ReleaseSuite) outcome(requestID string) api.DecisionOutcome {
	v, err := s.env.QueryWorkflow(api.QueryDecision, requestID)
	s.Require().NoError(err)
	var o api.DecisionOutcome
	s.Require().NoError(v.Get(&o))
	return o
}

func (s *ReleaseSuite) trail() []audit.Entry {
	v, err := s.env.QueryWorkflow(api.QueryAudit)
	s.Require().NoError(err)
	var a audit.Trail
	s.Require().NoError(v.Get(&a))
	return a.Entries
}

// entries returns the audit entries of one type.
func (s *ReleaseSuite) entries(typ string) []audit.Entry {
	var out []audit.Entry
	for _, e := range s.trail() {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func (s *ReleaseSuite) TestApprovedReleaseDeploysWithFourDistinctExecutors() {
	s.approveAll()
	res := s.run()
	s.Equal(api.StatusDeployed, res.Status)
	s.Equal(1, s.roles.deploys)
	s.Equal(policy.HashBytes(policyContent(testPolicy())), res.PolicyHash, "the hash is computed from the content, not taken from LoadPolicy")
	executors := map[string]string{}
	for _, e := range s.entries(audit.EventStageFinished) {
		executors[e.Stage] = e.Executor
	}
	s.Equal(map[string]string{api.StageCode: "foureyes-build@h", api.StageReview: "foureyes-review@h",
		api.StageApprove: "foureyes-approval@h"}, executors)
	s.Equal("foureyes-deploy@h", s.entries(audit.EventDeploy)[0].Executor)
	s.verifyChain(res.AuditHead)
}

func (s *ReleaseSuite) verifyChain(head string) {
	var buf bytes.Buffer
	trail := s.trail()
	s.Require().NoError(audit.Export(&buf, trail))
	rep, err := audit.VerifySigned(&buf, testkeys.Ring())
	s.NoError(err)
	s.Equal(len(trail), rep.Entries)
	s.Equal(head, trail[len(trail)-1].Hash)
	last := trail[len(trail)-1]
	s.Equal(audit.EventSealed, last.Type)
	s.Equal("ok", last.Outcome, last.Detail)
}

func (s *ReleaseSuite) TestEligibleRejectAtReviewEndsRejected() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictReject)
	res := s.run()
	s.Equal(api.StatusRejected, res.Status)
	s.Contains(res.Reason, "rejected by bob")
	s.Zero(s.roles.deploys)
}

// refusedThenApproved checks that a refused decision is answered, counted
// and recorded with its rule's code and reason, and that the gate keeps
// waiting for eligible signers.
func (s *ReleaseSuite) refusedThenApproved(gate, who string, rule api.Rule, reason string) {
	if gate == "approval" {
		s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	}
	s.decide(90*time.Second, "bad", gate, who, api.VerdictApprove)
	if gate == "review" {
		s.decide(2*time.Minute, "r1", "review", "bob", api.VerdictApprove)
	}
	s.decide(3*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.decide(4*time.Minute, "a2", "approval", "dave", api.VerdictApprove)
	res := s.run()
	s.Equal(api.StatusDeployed, res.Status)
	o := s.outcome("bad")
	s.Equal(api.OutcomeRefused, o.Outcome)
	s.Equal(rule, o.Rule)
	s.Contains(o.Reason, reason)
	refused := s.entries(audit.EventDecisionRefused)
	s.Require().Len(refused, 1)
	s.Equal(who, refused[0].Actor)
	s.Equal(string(rule), refused[0].Rule)
	s.Contains(refused[0].Detail, reason)
	s.EqualValues(1, s.decisionCount(map[string]string{"outcome": api.OutcomeRefused, "reason": string(rule)}))
}

// decisionCount sums MetricDecisions over the counters with tags.
func (s *ReleaseSuite) decisionCount(tags map[string]string) int64 {
	var n int64
	for _, c := range s.scope.Snapshot().Counters() {
		if c.Name() == MetricDecisions && hasTags(c.Tags(), tags) {
			n += c.Value()
		}
	}
	return n
}

// A release that recorded a version below the floor (or none) is refused
// before it does anything (it registers no query): the error names the
// floor to drain to.
func (s *ReleaseSuite) TestReleaseBelowTheFloorIsRefused() {
	for _, v := range []workflow.Version{workflow.DefaultVersion, versionFloor - 1} {
		s.SetupTest()
		s.env.OnGetVersion(changeRelease, workflow.DefaultVersion, latestRelease).Return(v)
		s.env.ExecuteWorkflow(Release, request())
		s.True(s.env.IsWorkflowCompleted())
		err := s.env.GetWorkflowError()
		s.Require().Error(err)
		s.Contains(err.Error(), fmt.Sprintf("drain releases started before v%d first", versionFloor))
		s.Contains(err.Error(), ErrTypeBelowFloor)
		s.Contains(err.Error(), "retryable: false")
	}
}

func (s *ReleaseSuite) TestSelfApprovalIsRefusedAndRecorded() {
	s.refusedThenApproved("approval", "alice", policy.RuleAuthor, "authored")
}

func (s *ReleaseSuite) TestRequesterIsRefused() {
	s.refusedThenApproved("approval", "rita", policy.RuleRequester, "requested")
}

func (s *ReleaseSuite) TestEarlierSignerIsRefused() {
	s.refusedThenApproved("approval", "bob", policy.RuleEarlierSigner, "earlier gate")
}

func (s *ReleaseSuite) TestNonOwnerIsRefused() {
	s.refusedThenApproved("approval", "mallory", policy.RuleNotEligible, "prod-owners")
}

func (s *ReleaseSuite) TestUnknownIdentityIsRefused() {
	s.refusedThenApproved("review", "eve", policy.RuleUnknownIdentity, "unknown")
}

func (s *ReleaseSuite) TestServiceIdentityIsRefused() {
	s.refusedThenApproved("review", "foureyes-deploy@h", policy.RuleServiceIdentity, "service identity")
}

func (s *ReleaseSuite) TestBotDoesNotCountWhereBotsDoNot() {
	s.refusedThenApproved("approval", "ci-bot", policy.RuleBotsDoNotCount, "bots do not count")
}

func (s *ReleaseSuite) TestQuorumOfTwoWaitsForSecondApprover() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.decide(2*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(api.QueryStatus)
		s.Require().NoError(err)
		var st api.Status
		s.Require().NoError(v.Get(&st))
		s.Equal(api.StatusAwaitingApproval, st.Status)
		s.Equal("approval", st.OpenGate)
		s.Equal(2, st.Quorum)
		s.Require().Len(st.Signed, 1)
		s.Equal("carol", st.Signed[0].Identity)
		s.Equal([]string{"dave"}, st.Awaiting)
		s.Equal(t0.Add(24*time.Hour+time.Minute), st.Deadline)
	}, 150*time.Second)
	s.decide(3*time.Minute, "a2", "approval", "dave", api.VerdictApprove)
	s.Equal(api.StatusDeployed, s.run().Status)
}

func (s *ReleaseSuite) TestSameApproverTwiceCountsOnce() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.decide(2*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.decide(3*time.Minute, "a1-again", "approval", "carol", api.VerdictApprove)
	res := s.run()
	s.Equal(api.StatusExpired, res.Status)
	s.Contains(s.outcome("a1-again").Reason, "already signed")
}

func (s *ReleaseSuite) TestDuplicateRequestIDCountsOnce() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.decide(2*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.decide(3*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.decide(4*time.Minute, "a1", "approval", "dave", api.VerdictApprove)
	res := s.run()
	s.Equal(api.StatusExpired, res.Status)
	s.Len(s.entries(audit.EventDecision), 2) // bob at review, carol once
	s.Empty(s.entries(audit.EventDecisionRefused))
	s.Equal(api.OutcomeAccepted, s.outcome("a1").Outcome)
}

func (s *ReleaseSuite) TestGateRemindsAtHalfTimeAndExpiresAtDeadline() {
	res := s.run()
	s.Equal(api.StatusExpired, res.Status)
	reminders := s.entries(audit.EventGateReminder)
	s.Require().Len(reminders, 1)
	s.Equal(t0.Add(12*time.Hour), reminders[0].Time)
	expired := s.entries(audit.EventGateExpired)
	s.Require().Len(expired, 1)
	s.Equal(t0.Add(24*time.Hour), expired[0].Time)
	s.Contains(s.noticeKinds(), api.NotifyReminder)
}

func (s *ReleaseSuite) noticeKinds() []string {
	var kinds []string
	for _, n := range s.roles.notices {
		kinds = append(kinds, n.Kind)
	}
	return kinds
}

func (s *ReleaseSuite) TestApprovalInsideFreezeWindowIsRefused() {
	s.roles.pol.Environments["prod"].Gates["approval"] = policy.GateRule{Groups: []string{"prod-owners"},
		Quorum: 2, Deadline: policy.Duration(24 * time.Hour),
		Freeze: []policy.Window{{Start: t0, End: t0.Add(time.Hour), Reason: "holiday"}}}
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.decide(2*time.Minute, "frozen", "approval", "carol", api.VerdictApprove)
	s.decide(61*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.decide(62*time.Minute, "a2", "approval", "dave", api.VerdictApprove)
	res := s.run()
	s.Equal(api.StatusDeployed, res.Status)
	s.Contains(s.outcome("frozen").Reason, "freeze")
	s.Equal(policy.RuleFreeze, s.outcome("frozen").Rule)
	s.Equal(t0.Add(62*time.Minute), s.entries(audit.EventDeploy)[0].Time)
}

func (s *ReleaseSuite) cancelAfter(after time.Duration, who string) {
	s.env.RegisterDelayedCallback(func() { s.cancelNow(who) }, after)
}

func (s *ReleaseSuite) cancelNow(who string) {
	c := api.CancelRequest{RequestID: "c-" + who, Identity: who, Channel: api.ChannelCLI, Reason: "not today"}
	s.update(api.UpdateCancel, c.RequestID, api.SignedRequest{Envelope: signedCancel(s.binding(), scopeOf(s.env), c)})
}

func (s *ReleaseSuite) TestCancelBeforeDeployByRequester() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.cancelAfter(2*time.Minute, "mallory") // neither requester nor release manager
	s.cancelAfter(3*time.Minute, "rita")
	res := s.run()
	s.Equal(api.StatusCancelled, res.Status)
	s.Contains(res.Reason, "cancelled by rita")
	s.Zero(s.roles.deploys)
	s.Zero(s.roles.rollbacks)
	refused := s.entries(audit.EventCancelRefused)
	s.Require().Len(refused, 1)
	s.Equal(string(api.RuleMayNotCancel), refused[0].Rule)
}

func (s *ReleaseSuite) TestCancelDuringDeployRollsBack() {
	s.approveAll()
	s.roles.blockDeploy = func(ctx context.Context) error {
		s.cancelNow("rm")
		for ctx.Err() == nil {
			activity.RecordHeartbeat(ctx)
			time.Sleep(10 * time.Millisecond)
		}
		return ctx.Err()
	}
	res := s.run()
	s.Equal(api.StatusCancelled, res.Status)
	s.Contains(res.Reason, "rolled back")
	s.Equal(1, s.roles.rollbacks)
	s.Len(s.entries(audit.EventRollback), 1)
}

func (s *ReleaseSuite) TestDeployFailureRollsBack() {
	s.approveAll()
	s.roles.deployErr = temporal.NewNonRetryableApplicationError("boom", "DeployFailed", nil)
	res := s.run()
	s.Equal(api.StatusRolledBack, res.Status)
	s.Contains(res.Reason, "boom")
	s.Equal(1, s.roles.rollbacks)
}

// A deploy whose worker is lost again and again (each attempt's heartbeat
// times out: the soak's deploy role killed mid-deploy three times in a row)
// got no verdict: it is retried, not rolled back.
func (s *ReleaseSuite) TestDeployOutlivesLostWorkers() {
	s.approveAll()
	s.roles.lostDeploys = 5
	res := s.run()
	s.Equal(api.StatusDeployed, res.Status, res.Reason)
	s.Equal(6, s.roles.deploys, "five lost attempts, then the one that deployed")
	s.Zero(s.roles.rollbacks)
}

// The budget is not endless: a deploy role lost on every attempt ends the
// release, rolled back, with the timeout as its reason.
func (s *ReleaseSuite) TestDeployLostOnEveryAttemptRollsBack() {
	s.approveAll()
	s.roles.lostDeploys = 1000
	res := s.run()
	s.Equal(api.StatusRolledBack, res.Status)
	s.Contains(res.Reason, "Heartbeat")
	s.Equal(deployAttempts, s.roles.deploys)
	s.Equal(1, s.roles.rollbacks)
}

func (s *ReleaseSuite) TestVerifyFailureRollsBack() {
	s.approveAll()
	s.roles.verifyOK = false
	res := s.run()
	s.Equal(api.StatusRolledBack, res.Status)
	s.Contains(res.Reason, "verification failed")
	s.Equal(1, s.roles.rollbacks)
}

func (s *ReleaseSuite) TestDecisionForAGateThatIsNotOpenIsClosed() {
	s.decide(time.Minute, "early", "approval", "carol", api.VerdictApprove)
	s.decide(2*time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.decide(3*time.Minute, "late", "review", "ci-bot", api.VerdictApprove)
	s.run()
	s.Equal(api.OutcomeGateClosed, s.outcome("early").Outcome)
	s.Equal(api.OutcomeGateClosed, s.outcome("late").Outcome)
	s.Equal(api.RuleGateClosed, s.outcome("late").Rule)
	s.EqualValues(2, s.decisionCount(map[string]string{"outcome": api.OutcomeGateClosed, "reason": "gate_closed"}))
	s.Equal(api.OutcomePending, s.outcome("never-sent").Outcome)
}

func (s *ReleaseSuite) TestUnknownEnvironmentFailsClosed() {
	req := request()
	req.Environment = "moon"
	s.env.ExecuteWorkflow(Release, req)
	var res api.ReleaseResult
	s.NoError(releaseResult(s.env, &res))
	s.Equal(api.StatusFailed, res.Status)
	s.Contains(res.Reason, "fail closed")
	s.Zero(s.roles.deploys)
}

func TestRootMessage(t *testing.T) {
	require.Equal(t, "inner", rootMessage(fmt.Errorf("outer: %w", errors.New("inner"))))
	require.Equal(t, "", rootMessage(nil))
}
