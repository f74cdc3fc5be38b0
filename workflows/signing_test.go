package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/testkeys"
	"github.com/foureyes/foureyes/policy"
)

// testWorkflowID is the id the SDK's test environment gives a workflow.
const testWorkflowID = "default-test-workflow-id"

// digestOf is the fake build's artifact digest for a commit.
func digestOf(commit string) string {
	sum := sha256.Sum256([]byte("artifact of " + commit))
	return hex.EncodeToString(sum[:])
}

// policyContent is p as a policy file listing the test keys.
func policyContent(p policy.Policy) []byte {
	p.Keys = testkeys.PolicyKeys()
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}

func mustAttest(role string, s attest.Subject, predicateType string, pred any) attest.Envelope {
	env, err := testkeys.Signer(role).Attest(s, predicateType, pred)
	if err != nil {
		panic(err)
	}
	return env
}

// testRepo is the repository the test policies name for their services.
const testRepo = "https://git.example.com/payments.git"

// signedBuild is what an honest build role answers. With git sources it
// resolves a ref to testCommit and attests the change: the commit alone
// (or since what the deploy role said is deployed), written by emails
// (default: the declared authors at example.com).
func signedBuild(in api.BuildInput, builder string, emails ...string) api.BuildResult {
	commit := in.Commit
	if in.Git && !api.ValidCommit(commit) {
		commit = testCommit
	}
	digest := digestOf(commit)
	var p attest.Provenance
	p.BuildDefinition.BuildType = attest.BuildType
	p.BuildDefinition.ExternalParameters = attest.BuildParameters{
		Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
		Service: in.Service, Environment: in.Environment, Commit: commit,
		Authors: in.Authors, Requester: in.Requester, ArtifactRef: "/a/" + commit}
	if in.Git && len(in.Deployed) > 0 {
		if len(emails) == 0 {
			for _, a := range in.Authors {
				emails = append(emails, a+"@example.com")
			}
		}
		var st attest.DeployedState
		f, err := testkeys.Ring().Verify(in.Deployed, attest.RoleDeploy, attest.PredicateDeployed)
		if err == nil {
			err = f.Decode(&st)
		}
		if err != nil {
			panic(err)
		}
		ext := &p.BuildDefinition.ExternalParameters
		ext.Ref, ext.Repository = in.Commit, testRepo
		ext.Change = &attest.Change{Base: st.Commit, BaseRelease: st.By, CommitCount: 1,
			Commits: []attest.ChangeCommit{{SHA: commit, Subject: "the change", Author: emails[0], Committer: emails[0],
				CoAuthors: emails[1:]}}, Emails: policy.Union(emails)}
	}
	p.RunDetails.Builder.ID = builder
	return api.BuildResult{ArtifactRef: "/a/" + commit, Digest: digest, Executor: builder, Commit: commit,
		Provenance: mustAttest(attest.RoleBuild, attest.ArtifactSubject(digest), attest.PredicateProvenance, p)}
}

// signedDeployed is the deploy role's statement that commit ("" = nothing)
// is deployed.
func signedDeployed(in api.DeployedInput, commit string) api.DeployedResult {
	st := attest.DeployedState{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
		Service: in.Service, Environment: in.Environment, Commit: commit, Deployer: "foureyes-deploy@h"}
	if commit != "" {
		st.By = "an-earlier-release"
	}
	return api.DeployedResult{Executor: "foureyes-deploy@h",
		Statement: mustAttest(attest.RoleDeploy, attest.DeploymentSubject(in.Service, in.Environment), attest.PredicateDeployed, st)}
}

// signedReview is what an honest review role answers.
func signedReview(in api.ReviewInput, passed bool, reviewer string) api.ReviewResult {
	v := attest.Review{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
		Commit: in.Commit, Passed: passed, Reviewer: reviewer}
	return api.ReviewResult{Passed: passed, Executor: reviewer,
		Attestation: mustAttest(attest.RoleReview, attest.ArtifactSubject(in.Digest), attest.PredicateReview, v)}
}

// signedStep is what an honest deploy role answers for one step.
func signedStep(in api.DeployInput, step string, ok bool, output, deployer string) api.StepResult {
	rc := attest.Receipt{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
		Step: step, Service: in.Service, Environment: in.Environment, Commit: in.Commit,
		OK: ok, Output: output, Deployer: deployer}
	return api.StepResult{OK: ok, Output: output, Executor: deployer,
		Receipt: mustAttest(attest.RoleDeploy, attest.ArtifactSubject(in.Digest), attest.PredicateDeploy, rc)}
}

// signedSeal is what an honest orchestrator answers.
func signedSeal(in api.SealInput) api.SealResult {
	s := attest.Seal{Binding: attest.Binding{Release: in.ReleaseID, PolicySHA256: in.PolicyHash},
		Head: in.Head, Entries: in.Entries, Status: in.Status, Sealer: "foureyes-orchestrator@h"}
	return api.SealResult{Executor: "foureyes-orchestrator@h",
		Seal: mustAttest(attest.RoleOrchestrator, attest.SealSubject(in.ReleaseID, in.Head), attest.PredicateSeal, s)}
}

// signedDecision is what the gateway signs for an authenticated decision.
func signedDecision(role string, b attest.Binding, sc attest.Scope, digest string, d api.Decision) attest.Envelope {
	st := attest.Decision{Binding: b, Scope: sc, RequestID: d.RequestID, Gate: d.Gate, Verdict: d.Verdict,
		Identity: d.Identity, Channel: d.Channel, Comment: d.Comment,
		Evidence: attest.Evidence{Kind: "token", TokenFingerprint: "0123456789abcdef"}, At: time.Unix(0, 0).UTC()}
	return mustAttest(role, attest.ArtifactSubject(digest), attest.PredicateDecision, st)
}

// signedCancel is what the gateway signs for an authenticated cancel.
func signedCancel(b attest.Binding, sc attest.Scope, c api.CancelRequest) attest.Envelope {
	st := attest.Cancel{Binding: b, Scope: sc, RequestID: c.RequestID, Identity: c.Identity, Channel: c.Channel, Reason: c.Reason}
	return mustAttest(attest.RoleApproval, attest.ReleaseSubject(b.Release), attest.PredicateCancel, st)
}

// scopeOf is the scope a gateway signs for the running release: its
// service, environment and run, as its binding query answers them.
func scopeOf(env *testsuite.TestWorkflowEnvironment) attest.Scope {
	var bd api.Binding
	if v, err := env.QueryWorkflow(api.QueryBinding); err == nil {
		_ = v.Get(&bd)
	}
	return attest.Scope{Service: bd.Service, Environment: bd.Environment, RunID: bd.RunID}
}
