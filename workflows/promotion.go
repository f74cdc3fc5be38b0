package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/judge"
	"github.com/foureyes/foureyes/policy"
)

// promo is what a release knows about promotion and emergency.
type promo struct {
	version  workflow.Version  // GetVersion(changePromotions)
	enabled  bool              // this release runs the promotion rules (version)
	declared *attest.Emergency // the verified break-glass declaration; nil: none
	rule     policy.Emergency  // the environment's break-glass settings (when declared)
}

// emergency reports whether the release is a verified emergency.
func (r *release) emergency() bool { return r.promo.declared != nil }

// declarer is who declared the emergency ("" when none).
func (r *release) declarer() string {
	if r.promo.declared == nil {
		return ""
	}
	return r.promo.declared.Identity
}

// checkEmergency verifies the request's break-glass declaration, if any:
// the approval role vouches that a release manager declared this very
// release an emergency, with a reason, where the policy allows it.
func (r *release) checkEmergency(ctx workflow.Context) string {
	env := r.req.Emergency
	if len(env) == 0 {
		return ""
	}
	e, err := r.verifyEmergency(env)
	if err == nil && r.scoped() {
		_, err = r.judging().Declarer(r.judged(), env, r.req.Requester)
	}
	if err != nil {
		return "emergency declaration refused (fail closed): " + err.Error()
	}
	r.promo.declared = &e
	r.promo.rule, _ = r.pol.EmergencyRule(r.req.Environment)
	r.record(ctx, audit.Entry{Type: audit.EventEmergency, Actor: e.Identity, Channel: e.Channel, Outcome: "declared",
		Envelope: json.RawMessage(env), Detail: fmt.Sprintf("EMERGENCY declared by %s: %s (two approvers at least; follow-up review after the deploy)",
			e.Identity, e.Reason)})
	r.notify(ctx, r.emergencyNotice())
	return ""
}

// verifyEmergency: a scoped release's declaration through the judge (it
// must name this service and environment); earlier releases' as recorded.
func (r *release) verifyEmergency(env attest.Envelope) (attest.Emergency, error) {
	if r.scoped() {
		return r.judging().Emergency(r.judged(), env)
	}
	var e attest.Emergency
	err := r.verifyFact(env, attest.RoleApproval, attest.PredicateEmergency, attest.ReleaseSubject(r.id), &e,
		func() attest.Binding { return e.Binding })
	if err == nil {
		err = r.pol.CheckEmergency(r.req.Environment, e)
	}
	return e, err
}

// unflagEmergency sets ReleaseEmergency back to false after the request's
// declaration was refused: the release is no emergency, and an operator
// searching for break-glass releases must not find it as one.
func (r *release) unflagEmergency(ctx workflow.Context) {
	if !r.visible || r.promo.version < versionEmergencyRefused {
		return
	}
	if on, _ := workflow.GetTypedSearchAttributes(ctx).GetBool(api.AttrEmergency); !on {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, api.AttrEmergency.ValueSet(false)); err != nil {
		workflow.GetLogger(ctx).Warn("ReleaseEmergency not reset", "error", err)
	}
}

// emergencyNotice announces the emergency in the policy's channel.
func (r *release) emergencyNotice() api.Notification {
	n := r.notification(api.NotifyOutcome, nil, fmt.Sprintf("EMERGENCY release declared by %s: %s", r.declarer(), r.promo.declared.Reason))
	n.SlackChannel, n.Emergency = r.promo.rule.SlackChannel, r.promo.declared.Reason
	return n
}

// adoptPromoted takes the promoted release's artifact instead of building:
// the build role's provenance of it, verified here, must be for this
// service, built for the environment this one's promotion rule names, and
// bound to the promoted release. Its change must cover what is deployed
// here now, or its authors would miss someone's commits.
func (r *release) adoptPromoted(ctx workflow.Context) error {
	r.startStage(ctx, api.StageCode, api.StatusBuilding, "promoting the artifact of release "+r.req.Promotes.Release+" (no rebuild)")
	res, err := r.verifyPromoted(ctx)
	if err != nil {
		err = errors.New("promotion refused (fail closed): " + err.Error())
		r.stageFailed(ctx, api.StageCode, err)
		return err
	}
	r.artifact, r.trust.provenance = res, res.Provenance
	r.stageExecutor(ctx, api.StageCode, res.Executor, res.Provenance, fmt.Sprintf(
		"promoted from release %s: artifact %s sha256:%s, built by %s (no rebuild)", r.req.Promotes.Release,
		res.ArtifactRef, res.Digest, res.Executor)+r.describeChange())
	return nil
}

func (r *release) verifyPromoted(ctx workflow.Context) (api.BuildResult, error) {
	req, ok := r.pol.Requirement(r.req.Environment)
	if !ok {
		return api.BuildResult{}, fmt.Errorf("environment %s has no promotion rule (requires): there is nothing to promote from", r.req.Environment)
	}
	var p attest.Provenance
	ext := &p.BuildDefinition.ExternalParameters
	f, err := r.judging().Signed(r.req.Promotes.Provenance, attest.RoleBuild, attest.PredicateProvenance, &p)
	switch {
	case err != nil:
		return api.BuildResult{}, err
	case ext.Release != r.req.Promotes.Release:
		return api.BuildResult{}, fmt.Errorf("the provenance is bound to release %q, not the promoted %q", ext.Release, r.req.Promotes.Release)
	case ext.Service != r.req.Service || ext.Environment != req.Environment:
		return api.BuildResult{}, fmt.Errorf("the provenance is for %s in %s; %s takes only what %s proved", ext.Service, ext.Environment, r.req.Environment, req.Environment)
	case p.RunDetails.Builder.ID == "" || !api.ValidCommit(ext.Commit):
		return api.BuildResult{}, errors.New("the provenance names no builder or no full commit")
	}
	if err := r.adoptSource(ctx, *ext); err != nil {
		return api.BuildResult{}, err
	}
	return api.BuildResult{ArtifactRef: ext.ArtifactRef, Digest: f.Subject.SHA256, Commit: ext.Commit,
		Executor: p.RunDetails.Builder.ID, Provenance: r.req.Promotes.Provenance}, nil
}

// adoptSource takes the promoted change and its authors; the deploy role
// says what is deployed here, which the change must start at or contain.
func (r *release) adoptSource(ctx workflow.Context, ext attest.BuildParameters) error {
	r.src.commit = ext.Commit
	if !r.src.enabled || !r.src.listed {
		return nil
	}
	if _, err := r.askDeployed(ctx); err != nil {
		return err
	}
	base := r.src.base.Commit
	if ext.Change == nil || (base != ext.Change.Base && !ext.Change.Contains(base)) {
		return fmt.Errorf("%s runs %s, which the promoted change (since %q) does not cover: its authors are not known; "+
			"release the commit to %s again", r.req.Environment, base, changeBase(ext.Change), r.req.Environment)
	}
	r.src.change = ext.Change
	ids, unmapped := r.pol.MapEmails(ext.Change.Emails)
	r.src.authors = policy.Union(ids, ext.Change.Identities)
	r.src.unmapped = policy.Union(unmapped, ext.Change.Unmapped)
	return nil
}

func changeBase(c *attest.Change) string {
	if c == nil {
		return "no change"
	}
	return c.Base
}

// requirementMet judges the environment's promotion rule on what the
// deploy role says runs in the required environment. A release verified
// there too recently waits when the policy says unmet: wait; otherwise it
// fails with the reason ("" when met, skipped or not versioned).
func (r *release) requirementMet(ctx workflow.Context, when string) string {
	req, ok := r.pol.Requirement(r.req.Environment)
	if !r.promo.enabled || !ok {
		return ""
	}
	if r.emergency() && r.promo.rule.SkipRequires {
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

// askDeployment asks the deploy role what runs of the service in env and
// verifies its signed answer, bound to this release; the soak time is
// measured at the deploy role's clock (the statement's time).
func (r *release) askDeployment(ctx workflow.Context, env string) (*policy.Deployment, time.Time, error) {
	opts := workflow.ActivityOptions{TaskQueue: api.QueueDeploy, StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second, MaximumAttempts: 5},
		Summary: fmt.Sprintf("promotion: what runs of %s in %s", r.req.Service, env)}
	res, err := call(workflow.WithActivityOptions(ctx, opts), deployRole.Deployed,
		api.DeployedInput{ReleaseID: r.id, Service: r.req.Service, Environment: env, PolicyHash: r.policyHash})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("what runs in %s could not be asked: %w", env, err)
	}
	var st attest.DeployedState
	err = r.verifyFact(res.Statement, attest.RoleDeploy, attest.PredicateDeployed,
		attest.DeploymentSubject(r.req.Service, env), &st, func() attest.Binding { return st.Binding })
	if err != nil {
		return nil, time.Time{}, errors.New("the deploy role's statement refused (fail closed): " + err.Error())
	}
	if st.Digest == "" {
		return nil, st.At, nil
	}
	return &policy.Deployment{Digest: st.Digest, Release: st.By, DeployedAt: st.DeployedAt, VerifiedAt: st.VerifiedAt}, st.At, nil
}

// emergencyRule is the gate rule as an emergency applies it: the approval
// gate never below two approvers, deadlines only shortened.
func (r *release) emergencyRule(name string, rule policy.GateRule) policy.GateRule {
	if !r.emergency() {
		return rule
	}
	if name == policy.GateApproval {
		rule.Quorum = policy.EmergencyQuorum(rule)
	}
	rule.Deadline = policy.Duration(policy.EmergencyDeadline(rule, r.promo.rule))
	return rule
}

// followUp opens, after an emergency's deploy, a review gate that stays
// open until one eligible reviewer (not its author, requester or
// declarer) signs it off; the release ends when they do.
func (r *release) followUp(ctx workflow.Context) ending {
	rule, _ := r.pol.Rule(r.req.Environment, policy.GateReview)
	rule.Quorum = judge.FollowUpQuorum
	r.setStage(ctx, api.StageFollowUp, api.StatusAwaitingFollowUp)
	g := &gate{name: api.GateFollowUp, rule: rule, opened: workflow.Now(ctx).UTC(), state: api.GateOpen, strict: r.scoped()}
	r.gate, r.gates = g, append(r.gates, g)
	r.record(ctx, audit.Entry{Type: audit.EventGateOpened, Stage: api.StageFollowUp, Detail: fmt.Sprintf(
		"emergency follow-up: gate %s needs 1 of %s after the deploy; it stays open until signed off", g.name, strings.Join(rule.Groups, ", "))})
	r.prompt(ctx, g)
	err := workflow.Await(ctx, func() bool { return !g.open() || r.cancelled() })
	r.closeGate(g)
	r.notify(ctx, r.notification(api.NotifyOutcome, g, "follow-up "+g.state))
	if err != nil {
		return endWith(api.StatusDeployed, "deployed in an emergency; the follow-up review was not signed off: "+rootMessage(err))
	}
	if len(g.signed) == 0 {
		return endWith(api.StatusDeployed, "deployed in an emergency; the follow-up review was closed unsigned by "+r.cancelReason())
	}
	last := g.signed[len(g.signed)-1]
	if last.Verdict == api.VerdictReject {
		return endWith(api.StatusDeployed, fmt.Sprintf("deployed in an emergency; the follow-up review by %s found: %s", last.Identity, last.Comment))
	}
	return endWith(api.StatusDeployed, fmt.Sprintf("deployed in an emergency; follow-up review signed off by %s: %s", last.Identity, last.Comment))
}
