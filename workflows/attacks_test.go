package workflows

import (
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/testkeys"
)

// Attacks on the workflow by a holder of namespace access: each must be
// refused, recorded, and leave nothing deployed.

// forgedThenExpired sends the honest review, then a forged approval pair;
// the release must expire at the approval gate with both refused.
func (s *ReleaseSuite) forgedApprovals(send func(after time.Duration, d api.Decision)) api.ReleaseResult {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	send(2*time.Minute, api.Decision{RequestID: "f1", Gate: "approval", Verdict: api.VerdictApprove, Identity: "carol", Channel: api.ChannelSlack})
	send(3*time.Minute, api.Decision{RequestID: "f2", Gate: "approval", Verdict: api.VerdictApprove, Identity: "dave", Channel: api.ChannelSlack})
	res := s.run()
	s.Equal(api.StatusExpired, res.Status)
	s.Zero(s.roles.deploys)
	s.Len(s.entries(audit.EventDecisionRefused), 2)
	return res
}

func (s *ReleaseSuite) TestForgedDecisionSignalIsRefusedAndRecorded() {
	s.forgedApprovals(func(after time.Duration, d api.Decision) {
		s.env.RegisterDelayedCallback(func() { s.env.SignalWorkflow(api.SignalDecision, d) }, after)
	})
	for _, e := range s.entries(audit.EventDecisionRefused) {
		s.Empty(e.Actor, "an unsigned claim names nobody")
		s.Contains(e.Detail, "carries no signature")
	}
}

func (s *ReleaseSuite) refusedWith(code string) {
	for _, e := range s.entries(audit.EventDecisionRefused) {
		s.Contains(e.Detail, code)
		s.Equal(string(api.RuleUnverified), e.Rule)
		s.Empty(e.Envelope, "an envelope that did not verify is not kept as evidence")
	}
}

func (s *ReleaseSuite) TestDecisionSignedByAnotherRoleIsRefused() {
	s.forgedApprovals(func(after time.Duration, d api.Decision) {
		s.decideSigned(after, attest.RoleBuild, s.binding(), digestOf(testCommit), d)
	})
	s.refusedWith(attest.CodeWrongRole)
}

func (s *ReleaseSuite) TestDecisionSignedByAnUnknownKeyIsRefused() {
	s.forgedApprovals(func(after time.Duration, d api.Decision) {
		s.decideSigned(after, testkeys.Outsider, s.binding(), digestOf(testCommit), d)
	})
	s.refusedWith(attest.CodeBadSignature)
}

func (s *ReleaseSuite) TestDecisionReplayedFromAnotherReleaseIsRefused() {
	s.forgedApprovals(func(after time.Duration, d api.Decision) {
		b := s.binding()
		b.Release = "another-release"
		s.decideSigned(after, attest.RoleApproval, b, digestOf(testCommit), d)
	})
	s.refusedWith(attest.CodeMisbound)
}

func (s *ReleaseSuite) TestDecisionForAnotherArtifactIsRefused() {
	s.forgedApprovals(func(after time.Duration, d api.Decision) {
		s.decideSigned(after, attest.RoleApproval, s.binding(), digestOf("another commit"), d)
	})
	s.refusedWith(attest.CodeMisbound)
}

func (s *ReleaseSuite) TestDecisionUnderAnotherPolicyIsRefused() {
	s.forgedApprovals(func(after time.Duration, d api.Decision) {
		b := s.binding()
		b.PolicySHA256 = "feedface"
		s.decideSigned(after, attest.RoleApproval, b, digestOf(testCommit), d)
	})
	s.refusedWith(attest.CodeMisbound)
}

// A valid envelope replayed under another update id is the same decision:
// it answers with its first outcome and counts once (carol cannot make a
// quorum of two alone).
func (s *ReleaseSuite) TestReplayedEnvelopeCountsOnce() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	carol := api.Decision{RequestID: "a1", Gate: "approval", Verdict: api.VerdictApprove, Identity: "carol", Channel: api.ChannelAPI}
	var replayed api.DecisionOutcome
	for i, id := range []string{"a1", "a1-replayed"} {
		s.env.RegisterDelayedCallback(func() {
			env := signedDecision(attest.RoleApproval, s.binding(), scopeOf(s.env), digestOf(testCommit), carol)
			s.env.UpdateWorkflow(api.UpdateDecide, id, &testsuite.TestUpdateCallback{OnAccept: func() {},
				OnReject: func(err error) { s.Fail("rejected", err.Error()) },
				OnComplete: func(v any, err error) {
					s.Require().NoError(err)
					replayed = v.(api.DecisionOutcome)
				}}, api.SignedRequest{Envelope: env})
		}, time.Duration(2+i)*time.Minute)
	}
	res := s.run()
	s.Equal(api.StatusExpired, res.Status)
	s.Equal(api.OutcomeAccepted, replayed.Outcome, "the replay answers with the first outcome, not a second judgement")
	s.Equal(2, len(s.entries(audit.EventDecision)), "bob once, carol once")
	s.Equal(0, len(s.entries(audit.EventDecisionRefused)), "the replay is not judged again")
}

func (s *ReleaseSuite) TestUnsignedBuildResultFailsClosed() {
	s.roles.forgeBuild = func(in api.BuildInput) api.BuildResult {
		return api.BuildResult{ArtifactRef: "/evil", Digest: digestOf("evil"), Executor: "foureyes-build@h"}
	}
	s.approveAll()
	res := s.run()
	s.Equal(api.StatusFailed, res.Status)
	s.Contains(res.Reason, "build result refused")
	s.Zero(s.roles.deploys)
}

func (s *ReleaseSuite) TestBuildProvenanceOfAnotherReleaseFailsClosed() {
	s.roles.forgeBuild = func(in api.BuildInput) api.BuildResult {
		in.ReleaseID = "another-release"
		return signedBuild(in, "foureyes-build@h")
	}
	res := s.run()
	s.Equal(api.StatusFailed, res.Status)
	s.Contains(res.Reason, "bound to release")
}

func (s *ReleaseSuite) TestForgedReviewPassIsNotBelieved() {
	s.roles.forgeReview = func(in api.ReviewInput) api.ReviewResult {
		res := signedReview(in, false, "foureyes-review@h") // the review role said no
		res.Passed = true                                   // and the forger says yes
		return res
	}
	res := s.run()
	s.Equal(api.StatusRejected, res.Status)
	s.Zero(s.roles.deploys)
}

func (s *ReleaseSuite) TestUnsignedReviewResultFailsClosed() {
	s.roles.forgeReview = func(in api.ReviewInput) api.ReviewResult {
		return api.ReviewResult{Passed: true, Executor: "foureyes-review@h"}
	}
	res := s.run()
	s.Equal(api.StatusFailed, res.Status)
	s.Contains(res.Reason, "review result refused")
}

func (s *ReleaseSuite) TestDeployWithoutReceiptRollsBack() {
	s.approveAll()
	s.roles.forgeDeploy = true
	res := s.run()
	s.Equal(api.StatusRolledBack, res.Status)
	s.Contains(res.Reason, "Deploy result refused")
	s.Equal(1, s.roles.rollbacks)
}

// TestDeployGetsNoBundle: since versionLeanHistory the deploy role reads
// every signed fact from the run's history, so no step carries them again;
// the trail still records each decision's envelope.
func (s *ReleaseSuite) TestDeployGetsNoBundle() {
	s.approveAll()
	s.Equal(api.StatusDeployed, s.run().Status)
	s.Require().Len(s.roles.bundles, 1)
	s.Nil(s.roles.bundles[0], "the deploy role reads them from the run's history")
	s.Require().Len(s.roles.verifies, 1)
	s.Nil(s.roles.verifies[0].Bundle)
	s.Len(s.entries(audit.EventDecision), 3, "bob, carol and dave")
	for _, e := range s.entries(audit.EventDecision) {
		s.NotEmpty(e.Envelope, "accepted decisions carry their envelope")
	}
}

// TestDeployGetsTheWholeBundleBeforeLeanHistory: a release of an older
// version replays as it ran, every step carrying every signed fact.
func (s *ReleaseSuite) TestDeployGetsTheWholeBundleBeforeLeanHistory() {
	s.env.OnGetVersion(changeRelease, workflow.DefaultVersion, latestRelease).Return(workflow.Version(versionLeanVisibility))
	s.approveAll()
	s.Equal(api.StatusDeployed, s.run().Status)
	s.Require().Len(s.roles.bundles, 1)
	s.Require().NotNil(s.roles.bundles[0])
	s.NotEmpty(s.roles.bundles[0].Provenance)
	s.Len(s.roles.bundles[0].Decisions, 3, "bob, carol and dave")
	s.Require().Len(s.roles.verifies, 1)
	s.Require().NotNil(s.roles.verifies[0].Bundle)
	s.Len(s.roles.verifies[0].Bundle.Decisions, 3)
}

func (s *ReleaseSuite) TestForgedCancelSignalIsRefused() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(api.SignalCancel, api.CancelRequest{RequestID: "c", Identity: "rita", Reason: "forged"})
	}, 2*time.Minute)
	s.decide(3*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.decide(4*time.Minute, "a2", "approval", "dave", api.VerdictApprove)
	res := s.run()
	s.Equal(api.StatusDeployed, res.Status)
	s.Empty(s.entries(audit.EventCancelRequested))
}

func (s *ReleaseSuite) TestFloodOfRefusedDecisionsIsBounded() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	for i := range 3 * refusalCap {
		d := api.Decision{RequestID: "x" + string(rune('A'+i%26)) + string(rune('a'+i/26)), Gate: "approval",
			Verdict: api.VerdictApprove, Identity: "alice", Channel: api.ChannelAPI}
		s.decideSigned(90*time.Second, attest.RoleApproval, s.binding(), digestOf(testCommit), d)
		d.RequestID = "forged-" + d.RequestID
		s.decideSigned(90*time.Second, testkeys.Outsider, s.binding(), digestOf(testCommit), d)
	}
	s.decide(3*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.decide(4*time.Minute, "a2", "approval", "dave", api.VerdictApprove)
	res := s.run()
	s.Equal(api.StatusDeployed, res.Status, "a flood does not stop the release")
	s.Equal(2*refusalCap, len(s.entries(audit.EventDecisionRefused)), "alice's and the unverified sender's first refusals")
	s.Equal(2, len(s.entries(audit.EventRefusalsCapped)))
	rejected := 0
	for _, err := range s.updates {
		if err != nil {
			rejected++
		}
	}
	s.Equal(2*2*refusalCap, rejected, "the rest were rejected before reaching history")
}
