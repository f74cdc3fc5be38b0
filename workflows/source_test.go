package workflows

import (
	"strings"
	"time"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/policy"
)

func (s *ReleaseSuite) status() api.Status {
	v, err := s.env.QueryWorkflow(api.QueryStatus)
	s.Require().NoError(err)
	var st api.Status
	s.Require().NoError(v.Get(&st))
	return st
}

// A change whose commits alice wrote: her approval is refused although
// nobody declared her, and the status names her as an author from git.
func (s *ReleaseSuite) TestAuthorFromGitIsRefused() {
	s.roles.gitEmails = []string{"ALICE@example.com"}
	req := request()
	req.Authors = nil // none declared: git says who wrote it
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.decide(90*time.Second, "self", "approval", "alice", api.VerdictApprove)
	s.decide(2*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.decide(3*time.Minute, "a2", "approval", "dave", api.VerdictApprove)
	s.env.ExecuteWorkflow(Release, req)
	var res api.ReleaseResult
	s.Require().NoError(releaseResult(s.env, &res))
	s.Equal(api.StatusDeployed, res.Status, res.Reason)
	s.Equal(api.OutcomeRefused, s.outcome("self").Outcome)
	s.Equal("you authored this change", s.outcome("self").Reason)
	st := s.status()
	s.Equal([]string{"alice"}, st.Authors)
	s.Require().NotNil(st.Change)
	s.Equal([]string{"alice"}, st.Change.Authors)
	s.Equal(testRepo, st.Change.Repository)
}

// The requester declares mallory for a commit alice wrote: alice is still
// refused, and so is mallory.
func (s *ReleaseSuite) TestRequesterOmittingTheAuthorDoesNotHelp() {
	s.roles.gitEmails = []string{"alice@example.com"}
	req := request()
	req.Authors = []string{"bob"}
	s.decide(time.Minute, "bob", "review", "bob", api.VerdictApprove)
	s.decide(90*time.Second, "r1", "review", "ci-bot", api.VerdictApprove)
	s.decide(2*time.Minute, "self", "approval", "alice", api.VerdictApprove)
	s.env.ExecuteWorkflow(Release, req)
	var res api.ReleaseResult
	s.Require().NoError(releaseResult(s.env, &res))
	s.Equal(api.StatusExpired, res.Status)
	s.Equal("you authored this change", s.outcome("bob").Reason, "declared")
	s.Equal("you authored this change", s.outcome("self").Reason, "from git")
	s.Equal([]string{"alice", "bob"}, s.status().Authors)
	s.Equal([]string{"bob"}, s.roles.builds[0].Authors, "the build attests the declared authors as declared")
}

// An email that maps to nobody blocks every approval, naming it; a no is
// still possible.
func (s *ReleaseSuite) TestUnmappedEmailBlocksApprovals() {
	s.roles.gitEmails = []string{"alice@example.com", "zed@elsewhere.org"}
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.env.RegisterDelayedCallback(func() {
		s.Contains(s.details(), "Unmapped emails: zed@elsewhere.org")
		s.Empty(s.status().Awaiting, "nobody may approve")
	}, 90*time.Second)
	s.decide(2*time.Minute, "no", "review", "bob", api.VerdictReject)
	res := s.run()
	s.Equal(api.StatusRejected, res.Status)
	want := `the change has commits by "zed@elsewhere.org", which maps to no identity of the policy (fail closed: unmapped_emails is block in prod)`
	s.Equal(want, s.outcome("r1").Reason)
	s.Equal(api.OutcomeAccepted, s.outcome("no").Outcome)
	finished := s.entries(audit.EventStageFinished)[0]
	s.Contains(finished.Detail, "emails that map to nobody: zed@elsewhere.org (they block every approval)")
	s.Zero(s.roles.deploys)
}

func (s *ReleaseSuite) TestUnmappedEmailAllowedWhereThePolicySaysSo() {
	s.roles.pol.Environments["prod"] = withEnv(s.roles.pol.Environments["prod"], func(e *policy.Environment) {
		e.UnmappedEmails = policy.UnmappedAllow
	})
	s.roles.gitEmails = []string{"alice@example.com", "zed@elsewhere.org"}
	s.approveAll()
	s.Equal(api.StatusDeployed, s.run().Status)
	s.Equal([]string{"zed@elsewhere.org"}, s.status().Change.Unmapped, "still shown")
}

func withEnv(e policy.Environment, edit func(*policy.Environment)) policy.Environment {
	edit(&e)
	return e
}

// A branch is resolved once by the build role; the release pins the full
// SHA: status, search attribute, audit, review, deploy, result, prompt.
func (s *ReleaseSuite) TestBranchResolvedOnceAndPinned() {
	req := request()
	req.Commit = "main"
	s.Require().NoError(s.env.SetTypedSearchAttributesOnStart(api.StartAttributes(req)))
	got := s.upserts()
	s.approveAll()
	s.env.ExecuteWorkflow(Release, req)
	var res api.ReleaseResult
	s.Require().NoError(releaseResult(s.env, &res))
	s.Equal(api.StatusDeployed, res.Status, res.Reason)
	s.Equal(testCommit, res.Commit)
	st := s.status()
	s.Equal(testCommit, st.Commit)
	s.Equal("main", st.Request.Commit)
	var commits []any
	for _, u := range *got {
		if c, ok := u["ReleaseCommit"]; ok {
			commits = append(commits, c)
		}
	}
	s.Equal([]any{testCommit}, commits, "upserted once, resolved")
	s.Contains(s.entries(audit.EventStageFinished)[0].Detail, "commit "+testCommit+" (main) of "+testRepo)
	s.Equal(testCommit, s.roles.deployInputs[0].Commit)
	var prompt api.Notification
	for _, n := range s.roles.notices {
		if n.Kind == api.NotifyPrompt && n.Gate == "approval" {
			prompt = n
		}
	}
	s.Equal(testCommit, prompt.Commit)
	s.Equal("main", prompt.CommitRef)
	s.Equal([]api.CommitLine{{Short: testCommit[:7], Subject: "the change", Author: "alice"}}, prompt.Commits)
	s.Equal(1, len(s.roles.builds))
	s.Equal("main", s.roles.builds[0].Commit, "the build role gets the ref to resolve")
	s.True(s.roles.builds[0].Git)
}

func (s *ReleaseSuite) TestCurrentDetailsListTheChange() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictReject)
	s.env.RegisterDelayedCallback(func() {
		s.Contains(s.details(), "- Change @ `"+testCommit[:7]+"`: `"+testCommit[:7]+"` the change (alice)")
	}, 30*time.Second)
	s.run()
}

// The build must start the change at what the deploy role said is
// deployed; a provenance that starts elsewhere fails the release closed.
func (s *ReleaseSuite) TestChangeMustStartAtTheDeployedCommit() {
	s.roles.deployed = strings.Repeat("c", 40)
	s.roles.forgeBuild = func(in api.BuildInput) api.BuildResult {
		in.Deployed = signedDeployed(api.DeployedInput{ReleaseID: in.ReleaseID, Service: in.Service,
			Environment: in.Environment, PolicyHash: in.PolicyHash}, strings.Repeat("d", 40)).Statement
		return signedBuild(in, "foureyes-build@h")
	}
	res := s.run()
	s.Equal(api.StatusFailed, res.Status)
	s.Contains(res.Reason, `the change starts at "dddd`)
}

// What is deployed must be the deploy role's signed word for this release.
func (s *ReleaseSuite) TestDeployedStatementMustBeTheDeployRoles() {
	for name, forge := range map[string]func(in api.DeployedInput) api.DeployedResult{
		"unsigned": func(in api.DeployedInput) api.DeployedResult {
			return api.DeployedResult{Executor: "foureyes-deploy@h"}
		},
		"build role's key": func(in api.DeployedInput) api.DeployedResult {
			st := attest.DeployedState{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
				Service: in.Service, Environment: in.Environment}
			return api.DeployedResult{Statement: mustAttest(attest.RoleBuild,
				attest.DeploymentSubject(in.Service, in.Environment), attest.PredicateDeployed, st)}
		},
		"another release": func(in api.DeployedInput) api.DeployedResult {
			in.ReleaseID = "another"
			return signedDeployed(in, "")
		},
	} {
		s.Run(name, func() {
			s.SetupTest()
			s.roles.forgeDeployed = forge
			res := s.run()
			s.Equal(api.StatusFailed, res.Status)
			s.Contains(res.Reason, "the deploy role's statement of what is deployed refused (fail closed)")
			s.Empty(s.roles.builds, "nothing built")
		})
	}
}

// A service the policy names no repository for: refused by default; where
// the environment allows it, built from the declared commit and authors.
func (s *ReleaseSuite) TestServiceWithoutRepository() {
	req := request()
	req.Service = "ledger"
	s.env.ExecuteWorkflow(Release, req)
	var res api.ReleaseResult
	s.Require().NoError(releaseResult(s.env, &res))
	s.Equal(api.StatusFailed, res.Status)
	s.Equal("service ledger has no repository in the policy, and environment prod refuses services without one (services_without_repository; fail closed)", res.Reason)

	s.SetupTest()
	s.roles.pol.Environments["prod"] = withEnv(s.roles.pol.Environments["prod"], func(e *policy.Environment) {
		e.ServicesWithoutRepository = policy.NoRepoAllow
	})
	s.approveAll()
	s.env.ExecuteWorkflow(Release, req)
	s.Require().NoError(releaseResult(s.env, &res))
	s.Equal(api.StatusDeployed, res.Status, res.Reason)
	s.Nil(s.status().Change)
	s.Nil(s.roles.builds[0].Deployed, "nothing to ask the deploy role")

	s.SetupTest()
	s.roles.pol.Environments["prod"] = withEnv(s.roles.pol.Environments["prod"], func(e *policy.Environment) {
		e.ServicesWithoutRepository = policy.NoRepoAllow
	})
	req.Commit = "main"
	s.env.ExecuteWorkflow(Release, req)
	s.Require().NoError(releaseResult(s.env, &res))
	s.Equal(api.StatusFailed, res.Status)
	s.Contains(res.Reason, `service ledger has no repository to resolve "main" in`)
}

// A decision handled while the seal is being signed is answered but not
// recorded: the sealed head stays the last entry before the seal.
func (s *ReleaseSuite) TestDecisionDuringTheSealIsNotRecorded() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictReject)
	done := make(chan struct{})
	s.roles.sealing = func() {
		s.env.RegisterDelayedCallback(func() {
			s.decide(0, "late", "review", "dave", api.VerdictApprove)
			close(done)
		}, 0)
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
	}
	res := s.run()
	s.Equal(api.StatusRejected, res.Status)
	trail := s.trail()
	s.Equal(audit.EventSealed, trail[len(trail)-1].Type)
	s.Equal(audit.EventReleaseEnded, trail[len(trail)-2].Type)
	s.verifyChain(res.AuditHead)
}
