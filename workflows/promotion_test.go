package workflows

import (
	"time"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/judge"
	"github.com/foureyes/foureyes/policy"
)

// signedRun is the deploy role's statement that st runs in in's environment.
func signedRun(in api.DeployedInput, st attest.DeployedState) api.DeployedResult {
	st.Binding = attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash}
	st.Service, st.Environment, st.Deployer = in.Service, in.Environment, "foureyes-deploy@h"
	return api.DeployedResult{Executor: "foureyes-deploy@h",
		Statement: mustAttest(attest.RoleDeploy, attest.DeploymentSubject(in.Service, in.Environment), attest.PredicateDeployed, st)}
}

// stagedPolicy: prod takes only what staging verified for 30m (unmet says
// refuse or wait); staging needs one approval; both allow emergencies,
// prod's skipping the promotion rule with a 2h deadline.
func stagedPolicy(unmet string) policy.Policy {
	p := testPolicy()
	prod := p.Environments["prod"]
	prod.Requires = &policy.Requirement{Environment: "staging", VerifiedFor: policy.Duration(30 * time.Minute), Unmet: unmet}
	prod.Emergency = &policy.Emergency{SlackChannel: "#incidents", SkipRequires: true, Deadline: policy.Duration(2 * time.Hour)}
	day := policy.Duration(24 * time.Hour)
	p.Environments = map[string]policy.Environment{"prod": prod, "staging": {
		Emergency: &policy.Emergency{SlackChannel: "#incidents"},
		Gates: map[string]policy.GateRule{
			"review":   {Groups: []string{"reviewers"}, Quorum: 1, BotsCount: true, Deadline: day},
			"approval": {Groups: []string{"prod-owners"}, Quorum: 1, Deadline: day},
		}}}
	return p
}

// stagingRuns makes staging run digest, verified ago before t0.
func (s *ReleaseSuite) stagingRuns(digest string, verifiedAgo time.Duration) {
	st := attest.DeployedState{Commit: testCommit, By: "rel-staging", Digest: digest, At: t0,
		DeployedAt: t0.Add(-verifiedAgo - time.Minute)}
	if verifiedAgo >= 0 {
		st.VerifiedAt = t0.Add(-verifiedAgo)
	}
	s.roles.runs = map[string]attest.DeployedState{"staging": st}
}

func (s *ReleaseSuite) refusedAtStart(want string) {
	s.approveAll()
	res := s.run()
	s.Equal(api.StatusFailed, res.Status)
	s.Contains(res.Reason, "promotion rule: "+want)
	s.Empty(s.entries(audit.EventGateOpened), "never reaches a gate that cannot lead anywhere")
	s.Zero(s.roles.deploys)
	s.Len(s.entries(audit.EventPromotionChecked), 1)
}

func (s *ReleaseSuite) TestProdRefusedWhenNeverDeployedToStaging() {
	s.roles.pol = stagedPolicy("")
	s.roles.runs = map[string]attest.DeployedState{"staging": {}}
	s.refusedAtStart("sha256:" + digestOf(testCommit)[:12] + " was never deployed to staging")
}

func (s *ReleaseSuite) TestProdRefusedWhenStagingRunsAnotherDigest() {
	s.roles.pol = stagedPolicy("")
	s.stagingRuns(digestOf("another commit"), time.Hour)
	s.refusedAtStart("staging runs sha256:" + digestOf("another commit")[:12] + " (release rel-staging), not sha256:")
}

func (s *ReleaseSuite) TestProdRefusedWhenStagingNeverVerified() {
	s.roles.pol = stagedPolicy("")
	s.stagingRuns(digestOf(testCommit), -1)
	s.refusedAtStart("sha256:" + digestOf(testCommit)[:12] + " is deployed to staging (release rel-staging) but was not verified")
}

func (s *ReleaseSuite) TestProdRefusedWhenVerifiedTooRecently() {
	s.roles.pol = stagedPolicy("")
	s.stagingRuns(digestOf(testCommit), 10*time.Minute)
	s.refusedAtStart("sha256:" + digestOf(testCommit)[:12] + " was verified in staging at 2026-03-02T08:50:00Z, 10m0s ago")
}

// With unmet: wait the release waits out the soak time, then asks again.
func (s *ReleaseSuite) TestProdWaitsOutTheSoakWhenThePolicySaysWait() {
	s.roles.pol = stagedPolicy(policy.UnmetWait)
	s.stagingRuns(digestOf(testCommit), 10*time.Minute)
	asked := 0
	s.roles.forgeDeployed = func(in api.DeployedInput) api.DeployedResult {
		if in.Environment != "staging" {
			return signedDeployed(in, "")
		}
		asked++
		st := s.roles.runs["staging"]
		st.At = t0.Add(time.Duration(asked-1) * 20 * time.Minute) // the deploy role's clock moves on
		return signedRun(in, st)
	}
	s.decide(25*time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.decide(26*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.decide(27*time.Minute, "a2", "approval", "dave", api.VerdictApprove)
	res := s.run()
	s.Equal(api.StatusDeployed, res.Status, res.Reason)
	var outcomes []string
	for _, e := range s.entries(audit.EventPromotionChecked) {
		outcomes = append(outcomes, e.Outcome)
	}
	s.Equal([]string{"waiting", "met", "met"}, outcomes, "waited, then met before the review and as the approval gate opened")
}

// The evidence is asked again as the approval gate opens: staging rolled
// back meanwhile ends the release.
func (s *ReleaseSuite) TestPromotionRuleCheckedAgainAsTheApprovalGateOpens() {
	s.roles.pol = stagedPolicy("")
	s.stagingRuns(digestOf(testCommit), time.Hour)
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.env.RegisterDelayedCallback(func() { s.roles.runs = map[string]attest.DeployedState{"staging": {}} }, 30*time.Second)
	res := s.run()
	s.Equal(api.StatusFailed, res.Status)
	s.Contains(res.Reason, "was never deployed to staging")
	s.Len(s.entries(audit.EventGateOpened), 1, "only the review gate opened")
}

// stagingProvenance is the build role's provenance of testCommit's artifact
// for staging release rel-staging.
func stagingProvenance(release, env string) attest.Envelope {
	in := api.BuildInput{ReleaseID: release, Service: "payments", Environment: env, Commit: testCommit,
		PolicyHash: "an-older-policy", Authors: []string{"alice"}, Requester: "rm", Git: true,
		Deployed: signedDeployed(api.DeployedInput{ReleaseID: release, Service: "payments", Environment: env}, "").Statement}
	return signedBuild(in, "foureyes-build@h").Provenance
}

func promoteRequest(prov attest.Envelope) api.ReleaseRequest {
	req := request()
	req.Promotes = &api.Promotion{Release: "rel-staging", Provenance: prov}
	return req
}

func (s *ReleaseSuite) runRequest(req api.ReleaseRequest) api.ReleaseResult {
	s.env.ExecuteWorkflow(Release, req)
	s.True(s.env.IsWorkflowCompleted())
	return s.closed()
}

func (s *ReleaseSuite) TestPromoteDeploysWithoutRebuild() {
	s.roles.pol = stagedPolicy("")
	s.stagingRuns(digestOf(testCommit), time.Hour)
	prov := stagingProvenance("rel-staging", "staging")
	s.approveAll()
	res := s.runRequest(promoteRequest(prov))
	s.Equal(api.StatusDeployed, res.Status, res.Reason)
	s.Empty(s.roles.builds, "no rebuild")
	s.Equal(digestOf(testCommit), res.ArtifactDigest)
	in := s.roles.deployInputs[0]
	s.Equal("rel-staging", in.Promotes)
	s.Nil(in.Bundle, "the deploy role reads the promoted provenance from the start request")
	s.Equal(string(prov), string(s.entries(audit.EventStageFinished)[0].Envelope), "the promoted provenance, exactly as signed")
	s.Contains(s.entries(audit.EventStageFinished)[0].Detail, "promoted from release rel-staging")
}

// The staging requester (rm) is an author-like party of the promoted
// change only through the provenance; alice, its author, stays refused.
func (s *ReleaseSuite) TestPromotionCarriesTheAuthorsOver() {
	s.roles.pol = stagedPolicy("")
	s.stagingRuns(digestOf(testCommit), time.Hour)
	req := promoteRequest(stagingProvenance("rel-staging", "staging"))
	req.Authors = nil
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.decide(2*time.Minute, "a0", "approval", "alice", api.VerdictApprove)
	res := s.runRequest(req)
	s.Equal(api.StatusExpired, res.Status)
	s.Equal("you authored this change", s.outcome("a0").Reason)
}

func (s *ReleaseSuite) TestPromotionOfProvenanceNotOfTheStagingReleaseFails() {
	s.roles.pol = stagedPolicy("")
	s.stagingRuns(digestOf(testCommit), time.Hour)
	for name, prov := range map[string]attest.Envelope{
		"bound to another release": stagingProvenance("rel-other", "staging"),
		"built for prod":           stagingProvenance("rel-staging", "prod"),
	} {
		s.Run(name, func() {
			s.SetupTest()
			s.roles.pol = stagedPolicy("")
			s.stagingRuns(digestOf(testCommit), time.Hour)
			res := s.runRequest(promoteRequest(prov))
			s.Equal(api.StatusFailed, res.Status)
			s.Contains(res.Reason, "promotion refused (fail closed)")
			s.Zero(s.roles.deploys)
		})
	}
}

// signedEmergency is the approval role's statement of who's declaration.
func signedEmergency(role string, b attest.Binding, sc attest.Scope, who, reason string) attest.Envelope {
	e := attest.Emergency{Binding: b, Scope: sc, RequestID: "em-1", Identity: who, Channel: api.ChannelAPI, Reason: reason}
	return mustAttest(role, attest.ReleaseSubject(b.Release), attest.PredicateEmergency, e)
}

func (s *ReleaseSuite) emergencyRequest(env, role, who, reason string) api.ReleaseRequest {
	req := request()
	req.Environment = env
	req.Emergency = signedEmergency(role, s.binding(), attest.Scope{Service: req.Service, Environment: env}, who, reason)
	return req
}

func (s *ReleaseSuite) TestForgedOrIncompleteEmergencyFailsAtStart() {
	cases := map[string]struct{ role, who, reason, want string }{
		"signed by the build role": {attest.RoleBuild, "rm", "down", "signed with the build role's key"},
		"without a reason":         {attest.RoleApproval, "rm", " ", "an emergency needs a reason"},
		"by a non-manager":         {attest.RoleApproval, "carol", "down", "carol is not a release manager"},
	}
	for name, c := range cases {
		s.Run(name, func() {
			s.SetupTest()
			s.roles.pol = stagedPolicy("")
			req := s.emergencyRequest("prod", c.role, c.who, c.reason)
			s.Require().NoError(s.env.SetTypedSearchAttributesOnStart(api.StartAttributes(req)))
			got := s.upserts()
			res := s.runRequest(req)
			s.Equal(api.StatusFailed, res.Status)
			s.Contains(res.Reason, "emergency declaration refused (fail closed): "+c.want)
			s.Empty(s.roles.builds)
			s.Contains(*got, map[string]any{"ReleaseEmergency": false}, "a refused declaration is no emergency")
		})
	}
}

// Staging needs one approval, an emergency there two: no policy makes
// break-glass a one-person path. The declarer may not sign; after the
// deploy a follow-up review stays open until someone signs it off.
func (s *ReleaseSuite) TestEmergencyNeedsTwoPeopleAndAFollowUp() {
	s.roles.pol = stagedPolicy("")
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.decide(2*time.Minute, "a0", "approval", "rm", api.VerdictApprove)
	s.decide(3*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.env.RegisterDelayedCallback(func() {
		st := s.status()
		s.Equal(api.StatusAwaitingApproval, st.Status, "one approval does not pass an emergency")
		s.Equal(2, st.Quorum)
		s.Equal(&api.EmergencyView{DeclaredBy: "rm", Reason: "ledger down"}, st.Emergency)
	}, 4*time.Minute)
	s.decide(5*time.Minute, "a2", "approval", "dave", api.VerdictApprove)
	s.env.RegisterDelayedCallback(func() {
		s.Equal(api.StatusAwaitingFollowUp, s.status().Status, "deployed, the follow-up stays open")
	}, 30*24*time.Hour)
	// bob signed the review gate: nobody signs two gates of one release
	s.decide(30*24*time.Hour+time.Minute, "f0", api.GateFollowUp, "bob", api.VerdictApprove)
	s.decide(30*24*time.Hour+2*time.Minute, "f1", api.GateFollowUp, "ci-bot", api.VerdictApprove)
	res := s.runRequest(s.emergencyRequest("staging", attest.RoleApproval, "rm", "ledger down"))
	s.Equal(api.StatusDeployed, res.Status)
	s.Contains(res.Reason, "follow-up review signed off by ci-bot")
	s.Equal("you signed an earlier gate", s.outcome("f0").Reason)
	s.Equal("you declared this release an emergency", s.outcome("a0").Reason)
	s.Equal(1, s.roles.deploys)
	s.Nil(s.roles.bundles[0], "the deploy role reads the signed declaration from the run's start request")
	s.Len(s.entries(audit.EventEmergency), 1)
	var channels []string
	prompts := 0
	for _, n := range s.roles.notices {
		if n.Emergency != "" {
			channels = append(channels, n.SlackChannel)
		}
		if n.Kind == api.NotifyPrompt {
			prompts++
			s.Equal("ledger down", n.Emergency, "every prompt flags the emergency")
		}
	}
	s.Equal(3, prompts, "review, approval, follow-up")
	s.Contains(channels, "#incidents")
}

// In prod the emergency skips the promotion rule and its gates close in 2h.
func (s *ReleaseSuite) TestEmergencySkipsThePromotionRuleWhereAllowed() {
	s.roles.pol = stagedPolicy("")
	s.roles.runs = map[string]attest.DeployedState{"staging": {}}
	s.approveAll()
	s.decide(10*time.Minute, "f1", api.GateFollowUp, "ci-bot", api.VerdictApprove)
	res := s.runRequest(s.emergencyRequest("prod", attest.RoleApproval, "rm", "card payments failing"))
	s.Equal(api.StatusDeployed, res.Status, res.Reason)
	s.Equal("skipped", s.entries(audit.EventPromotionChecked)[0].Outcome)
	var releases, decisions int64
	for _, c := range s.scope.Snapshot().Counters() {
		if c.Tags()["emergency"] == "true" && c.Name() == MetricReleases {
			releases += c.Value()
		}
		if c.Tags()["emergency"] == "true" && c.Name() == MetricDecisions {
			decisions += c.Value()
		}
	}
	s.EqualValues(1, releases, "the release counts as an emergency")
	s.Positive(decisions)
	s.Contains(s.entries(audit.EventGateOpened)[0].Detail, "by 2026-03-02T11:00:00Z", "deadline shortened to 2h")
}

func (s *ReleaseSuite) TestRejectWithoutCommentIsRefusedAndRecorded() {
	s.decideSigned(time.Minute, attest.RoleApproval, s.binding(), digestOf(testCommit), api.Decision{RequestID: "r0",
		Gate: "review", Verdict: api.VerdictReject, Identity: "bob", Channel: api.ChannelAPI})
	s.approveAll()
	res := s.run()
	s.Equal(api.StatusDeployed, res.Status, "a reason-less no does not count")
	s.Equal("a rejection needs a comment: say why", s.outcome("r0").Reason)
	s.Contains(s.entries(audit.EventDecisionRefused)[0].Detail, "a rejection needs a comment")
}

// TestTheWorkflowFollowsTheJudge: a rule added to the one judge (package
// judge) is followed by the workflow with no change of its own — dave's
// approval is refused, the gate waits and expires — as the deploy role
// and the auditor follow it (their tests add the same rule).
func (s *ReleaseSuite) TestTheWorkflowFollowsTheJudge() {
	defer judge.AddRule(judge.NoDave)()
	s.approveAll()
	res := s.run()
	s.Equal(api.StatusExpired, res.Status, res.Reason)
	s.Equal("dave may not approve (added rule)", s.outcome("a2").Reason)
	s.Zero(s.roles.deploys)
}
