package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/judge"
	"github.com/foureyes/foureyes/policy"
)

// checkAllowed is the deploy role's own judgement of a deploy. Anything
// that reaches its task queue may ask (a rogue workflow, a compromised
// orchestrator), so it judges, with the one judge (package judge), its own
// copy of the policy and its own clock, what the server says about the
// calling run and what the build, review and approval roles signed. A
// refusal names the rule that failed and is logged with the release id.
func (a *DeployActivities) checkAllowed(ctx context.Context, in api.DeployInput) error {
	err := a.judgeDeploy(ctx, in, time.Now())
	if err == nil {
		return nil
	}
	if activity.IsActivity(ctx) {
		msg := "deploy refused"
		if u := (*CallerUnavailable)(nil); errors.As(err, &u) {
			msg = "deploy not judged yet (the calling run could not be read); retried"
		}
		activity.GetLogger(ctx).Warn(msg, "release_id", in.ReleaseID, "reason", err.Error())
	}
	return deployAnswer("deploy", err)
}

// judgeDeploy establishes that the caller is the release the input names,
// gathers the evidence and asks the judge.
func (a *DeployActivities) judgeDeploy(ctx context.Context, in api.DeployInput, now time.Time) error {
	j, err := a.judge(in.PolicyHash)
	if err != nil {
		return err
	}
	rel, caller, err := a.calledBy(ctx, in)
	if err != nil {
		return err
	}
	ev, err := a.evidence(in, caller, j.Policy)
	if err != nil {
		return err
	}
	_, err = j.Deploy(rel, ev, now)
	return err
}

// calledBy reads the calling run from the server and checks it is the
// release the input names.
func (a *DeployActivities) calledBy(ctx context.Context, in api.DeployInput) (judge.Release, Caller, error) {
	read := a.Caller
	if read == nil {
		read = ServerCaller
	}
	c, err := readCaller(ctx, read)
	if err != nil {
		return judge.Release{}, c, fmt.Errorf("who called: %w", err)
	}
	rel, err := c.release(in)
	return rel, c, err
}

// evidence is what the deploy rests on, all of it from the calling run's
// history, none from the input: its request and requests, the signed
// provenance and review its Build and Review completed with, and this
// role's own records of what runs here and in the environment a promotion
// rule requires. A bundle in the input (releases before v7 of the Release
// workflow send one) is not read: the run's history holds the same.
func (a *DeployActivities) evidence(in api.DeployInput, c Caller, pol *policy.Policy) (judge.Evidence, error) {
	ev := judge.Evidence{Request: claimOf(c.Request), Emergency: c.Request.Emergency,
		Provenance: c.Provenance, Review: c.Review, Requests: c.Requests}
	cur, err := readState(a.statePath(in))
	if err != nil {
		return ev, err
	}
	if cur != nil {
		ev.Current = &judge.Running{Commit: cur.Commit, Release: cur.ReleaseID}
	}
	if req, ok := pol.Requirement(in.Environment); ok {
		ev.Required, err = a.deployment(in.Service, req.Environment)
	}
	return ev, err
}

// judge is the judge under the deploy role's own policy, which must be the
// very policy the release pinned. It is read on every deploy (it may
// change) and parsed once per content.
func (a *DeployActivities) judge(want string) (*judge.Judge, error) {
	if a.PolicyFile == "" {
		return nil, errors.New("the deploy role has no policy of its own (FOUREYES_DEPLOY_POLICY_FILE)")
	}
	l, err := a.policies.load(a.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("the deploy role's policy: %w", err)
	}
	if l.hash != want {
		return nil, fmt.Errorf("the release pinned policy sha256:%s, but the deploy role's policy %s is sha256:%s",
			want, a.PolicyFile, l.hash)
	}
	return &judge.Judge{Policy: l.pol, Keys: l.ring}, nil
}

// deployment is this role's record of what runs of service in environment
// (nil: nothing) as promotion evidence.
func (a *DeployActivities) deployment(service, environment string) (*policy.Deployment, error) {
	st, err := readState(a.statePath(api.DeployInput{Service: service, Environment: environment}))
	if err != nil || st == nil {
		return nil, err
	}
	return &policy.Deployment{Digest: st.Digest, Release: st.ReleaseID, DeployedAt: st.DeployedAt, VerifiedAt: st.VerifiedAt}, nil
}

// mayRollback: a rollback undoes only what this role deployed for the
// calling release, and only for a reason of its own: its signed receipt
// that the release's verify failed, its own record that the release's
// deploy command failed or was cut off, or a cancel the release took.
// With nothing of the release deployed there is nothing to undo (allowed:
// it changes nothing).
func (a *DeployActivities) mayRollback(ctx context.Context, in api.DeployInput) error {
	j, err := a.judge(in.PolicyHash)
	if err != nil {
		return err
	}
	rel, caller, err := a.calledBy(ctx, in)
	if err != nil {
		return err
	}
	if len(in.FailedVerify) > 0 {
		return j.VerifyFailed(rel, in.FailedVerify)
	}
	cur, _, err := a.ownStates(in)
	if err != nil || cur == nil {
		return err
	}
	if st, err := a.step(in, "deploy").State(); err != nil || st.Started && (!st.Exited || st.RC != 0) {
		return err
	}
	if _, ok := j.Cancelled(rel, caller.Request.Requester, caller.Requests); ok {
		return nil
	}
	return fmt.Errorf("release %s is deployed, its deploy did not fail, no signed receipt says its verify failed and it was not cancelled: "+
		"nothing calls for a rollback", in.ReleaseID)
}

// claimOf is what the release was started with, for the judge.
func claimOf(q api.ReleaseRequest) judge.Claim {
	return judge.Claim{Requester: q.Requester, Commit: q.Commit, Authors: q.Authors, Proof: q.RequestProof}
}
