package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/policy"
)

// adoptPromoted takes the promoted release's artifact instead of building:
// the build role's provenance of it, verified here, must be for this
// service, built for the environment this one's promotion rule names, and
// bound to the promoted release. Its change must cover what is deployed
// here now, or its authors would miss someone's commits.
func (r *release) adoptPromoted(ctx workflow.Context) error {
	from := promotes(r.req)
	r.startStage(ctx, api.StageCode, api.StatusBuilding, "promoting the artifact of release "+from+" (no rebuild)")
	res, err := r.verifyPromoted(ctx)
	if err != nil {
		err = errors.New("promotion refused (fail closed): " + err.Error())
		r.stageFailed(ctx, api.StageCode, err)
		return err
	}
	r.artifact = res
	r.stageExecutor(ctx, api.StageCode, res.Executor, res.Provenance, fmt.Sprintf(
		"promoted from release %s: artifact %s sha256:%s, built by %s (no rebuild)", from,
		res.ArtifactRef, res.Digest, res.Executor)+r.src.describe(&r.pin.policy, r.req.Environment))
	return nil
}

func (r *release) verifyPromoted(ctx workflow.Context) (api.BuildResult, error) {
	q := r.req
	req, ok := r.pin.policy.Requirement(q.Environment)
	if !ok {
		return api.BuildResult{}, fmt.Errorf("environment %s has no promotion rule (requires): there is nothing to promote from", q.Environment)
	}
	var p attest.Provenance
	ext := &p.BuildDefinition.ExternalParameters
	f, err := r.pin.judge().Signed(q.Promotes.Provenance, attest.RoleBuild, attest.PredicateProvenance, &p)
	switch {
	case err != nil:
		return api.BuildResult{}, err
	case ext.Release != q.Promotes.Release:
		return api.BuildResult{}, fmt.Errorf("the provenance is bound to release %q, not the promoted %q", ext.Release, q.Promotes.Release)
	case ext.Service != q.Service || ext.Environment != req.Environment:
		return api.BuildResult{}, fmt.Errorf("the provenance is for %s in %s; %s takes only what %s proved", ext.Service, ext.Environment, q.Environment, req.Environment)
	case p.RunDetails.Builder.ID == "" || !api.ValidCommit(ext.Commit):
		return api.BuildResult{}, errors.New("the provenance names no builder or no full commit")
	}
	if err := r.adoptSource(ctx, *ext); err != nil {
		return api.BuildResult{}, err
	}
	return api.BuildResult{ArtifactRef: ext.ArtifactRef, Digest: f.Subject.SHA256, Commit: ext.Commit,
		Executor: p.RunDetails.Builder.ID, Provenance: q.Promotes.Provenance}, nil
}

// adoptSource takes the promoted change and its authors; the deploy role
// says what is deployed here, which the change must start at or contain,
// and this environment's rules judge the change.
func (r *release) adoptSource(ctx workflow.Context, ext attest.BuildParameters) error {
	r.src.commit = ext.Commit
	if !r.src.listed {
		return nil
	}
	if _, err := r.askDeployed(ctx); err != nil {
		return err
	}
	if err := r.src.adopt(ext.Change, &r.pin.policy, r.req.Environment); err != nil {
		return err
	}
	return r.src.allowed(&r.pin.policy, r.req.Service, r.req.Environment, r.req.Requester)
}

// requirementMet judges the environment's promotion rule on what the
// deploy role says runs in the required environment. A release verified
// there too recently waits when the policy says unmet: wait; otherwise it
// fails with the reason ("" when met or skipped).
func (r *release) requirementMet(ctx workflow.Context, when string) string {
	req, ok := r.pin.policy.Requirement(r.req.Environment)
	if !ok {
		return ""
	}
	if r.emergency.on() && r.emergency.rule.SkipRequires {
		r.record(ctx, audit.Entry{Type: audit.EventPromotionChecked, Outcome: "skipped",
			Detail: fmt.Sprintf("%s: the promotion rule (%s for %s) is skipped: emergency", when, req.Environment, req.VerifiedFor)})
		return ""
	}
	for {
		d, at, err := r.askDeployment(ctx, req.Environment)
		if err != nil {
			return "promotion rule: " + rootMessage(err)
		}
		j := req.Judge(d, r.artifact.Digest, at)
		if j.Met {
			r.record(ctx, audit.Entry{Type: audit.EventPromotionChecked, Outcome: "met", Detail: fmt.Sprintf(
				"%s: sha256:%s ran verified in %s since %s (release %s)", when, r.artifact.Digest, req.Environment,
				d.VerifiedAt.Format(time.RFC3339), d.Release)})
			return ""
		}
		if j.Left == 0 || !req.Waits() {
			r.record(ctx, audit.Entry{Type: audit.EventPromotionChecked, Outcome: "refused", Detail: when + ": " + j.Reason})
			return "promotion rule: " + j.Reason
		}
		r.record(ctx, audit.Entry{Type: audit.EventPromotionChecked, Outcome: "waiting", Detail: when + ": " + j.Reason})
		if ok, err := workflow.AwaitWithTimeout(ctx, j.Left, r.cancelled); ok || err != nil {
			return "promotion rule: wait ended: " + orCancelled(err)
		}
	}
}

func orCancelled(err error) string {
	if err != nil {
		return rootMessage(err)
	}
	return "cancelled"
}

// deployedOptions: asking the deploy role what runs somewhere.
func deployedOptions(summary string) workflow.ActivityOptions {
	return workflow.ActivityOptions{TaskQueue: api.QueueDeploy, StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second, MaximumAttempts: 5},
		Summary: summary}
}

// askDeployment asks the deploy role what runs of the service in env and
// verifies its signed answer, bound to this release; the soak time is
// measured at the deploy role's clock (the statement's time).
func (r *release) askDeployment(ctx workflow.Context, env string) (*policy.Deployment, time.Time, error) {
	svc := r.req.Service
	opts := deployedOptions(fmt.Sprintf("promotion: what runs of %s in %s", svc, env))
	res, err := call(workflow.WithActivityOptions(ctx, opts), deployRole.Deployed,
		api.DeployedInput{ReleaseID: r.id, Service: svc, Environment: env, PolicyHash: r.pin.hash})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("what runs in %s could not be asked: %w", env, err)
	}
	var st attest.DeployedState
	err = r.pin.fact(res.Statement, attest.RoleDeploy, attest.PredicateDeployed,
		attest.DeploymentSubject(svc, env), &st, func() attest.Binding { return st.Binding })
	if err != nil {
		return nil, time.Time{}, errors.New("the deploy role's statement refused (fail closed): " + err.Error())
	}
	if st.Digest == "" {
		return nil, st.At, nil
	}
	return &policy.Deployment{Digest: st.Digest, Release: st.By, DeployedAt: st.DeployedAt, VerifiedAt: st.VerifiedAt}, st.At, nil
}
