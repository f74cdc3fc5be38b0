package workflows

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/judge"
	"github.com/foureyes/foureyes/policy"
)

// Release runs one release: code, review (+ gate), approve (+ gate), deploy.
// Business outcomes (rejected, expired, cancelled, rolled back, failed) are
// results, so that every release ends with a sealed audit trail; since
// versionFailedEnds the workflow then closes failed (cancelled) with that
// result in the error (closeAs).
func Release(ctx workflow.Context, req api.ReleaseRequest) (api.ReleaseResult, error) {
	r := newRelease(ctx, req)
	r.version = workflow.GetVersion(ctx, changeRelease, workflow.DefaultVersion, latestRelease)
	if r.version >= versionOneMarker {
		r.takeLatestEarlierChanges()
	} else {
		r.askEarlierChanges(ctx)
	}
	r.startPublisher(ctx)
	if err := r.registerQueries(ctx); err != nil {
		return api.ReleaseResult{}, err
	}
	if r.trust.signed {
		if err := r.registerUpdates(ctx); err != nil {
			return api.ReleaseResult{}, err
		}
	}
	return r.closeAs(r.finish(ctx, r.pipeline(ctx)))
}

// closeAs is how the workflow closes once the release is sealed: completed
// with res when it deployed (or when it recorded a version before
// versionFailedEnds), else failed or cancelled with res in the error.
func (r *release) closeAs(res api.ReleaseResult) (api.ReleaseResult, error) {
	if r.version < versionFailedEnds || res.Status == api.StatusDeployed {
		return res, nil
	}
	return api.ReleaseResult{}, api.NotDeployed(res)
}

// askEarlierChanges takes the versions a release recorded before
// changeRelease, one GetVersion call each, in the order they were added.
func (r *release) askEarlierChanges(ctx workflow.Context) {
	v := workflow.GetVersion(ctx, changeSearchAttributes, workflow.DefaultVersion, versionBatchedPublish)
	r.visible, r.batched = v >= versionVisible, v >= versionBatchedPublish
	r.trust.signed = workflow.GetVersion(ctx, changeSignedAttestations, workflow.DefaultVersion,
		versionSignedAttestations) >= versionSignedAttestations
	r.src.enabled = r.trust.signed && workflow.GetVersion(ctx, changeGitSources, workflow.DefaultVersion,
		versionGitSources) >= versionGitSources
	if r.src.enabled {
		r.promo.version = workflow.GetVersion(ctx, changePromotions, workflow.DefaultVersion, latestPromotions)
	}
	r.promo.enabled = r.promo.version >= versionPromotions
}

// takeLatestEarlierChanges: a release with changeRelease runs every earlier
// change at its latest version without asking (versionOneMarker).
func (r *release) takeLatestEarlierChanges() {
	r.visible, r.batched = true, true
	r.trust.signed, r.src.enabled = true, true
	r.promo.version, r.promo.enabled = latestPromotions, true
}

// sealClosesTrail: since changeRelease always; before, as recorded.
func (r *release) sealClosesTrail(ctx workflow.Context) bool {
	return r.version >= versionOneMarker || workflow.GetVersion(ctx, changeSealClosesTrail,
		workflow.DefaultVersion, versionSealClosesTrail) >= versionSealClosesTrail
}

// scoped: versionScopedStatements.
func (r *release) scoped() bool { return r.version >= versionScopedStatements }

// leanNotices: versionLeanNotices.
func (r *release) leanNotices() bool { return r.version >= versionLeanNotices }

// ending is how a release ends: its status and why. A step after which the
// release goes on returns goOn, the zero ending.
type ending struct {
	status string // a Status constant; "" while the release goes on
	reason string
}

var goOn ending

// over reports whether the release ends here.
func (e ending) over() bool { return e.status != "" }

func endWith(status, reason string) ending { return ending{status: status, reason: reason} }

func (r *release) pipeline(ctx workflow.Context) ending {
	r.setStage(ctx, api.StageCode, api.StatusBuilding)
	if err := r.loadPolicy(ctx); err != nil {
		r.record(ctx, audit.Entry{Type: audit.EventReleaseStarted, Actor: r.req.Requester, Outcome: "failed",
			Detail: "policy could not be loaded: " + rootMessage(err)})
		return endWith(api.StatusFailed, "policy could not be loaded: "+rootMessage(err))
	}
	r.upsertPolicyMemo(ctx)
	r.record(ctx, audit.Entry{Type: audit.EventReleaseStarted, Actor: r.req.Requester, Channel: api.ChannelCLI,
		Detail: r.describe(), Proof: requestProof(r.req)})
	if why := r.validate(); why != "" {
		return endWith(api.StatusFailed, why)
	}
	if why := r.checkEmergency(ctx); why != "" {
		r.unflagEmergency(ctx)
		return endWith(api.StatusFailed, why)
	}
	r.listen(ctx)
	return r.stages(ctx)
}

// requestProof is the requester's own signed request as the trail keeps it
// (nil when the request carries none: the entry hashes as before).
func requestProof(q api.ReleaseRequest) json.RawMessage {
	if q.RequestProof == nil {
		return nil
	}
	b, _ := json.Marshal(q.RequestProof)
	return b
}

func (r *release) describe() string {
	q := r.req
	by := strings.Join(q.Authors, ", ")
	if by == "" {
		by = "(authors from git)"
	}
	return fmt.Sprintf("%s to %s at %s by %s, requested by %s, policy sha256:%s: %s %s",
		q.Service, q.Environment, q.Commit, by, q.Requester, r.policyHash, q.Title, q.Link)
}

// validate fails closed on a request the pinned policy cannot judge.
func (r *release) validate() string {
	q := r.req
	if r.src.enabled {
		if why := r.validateSource(); why != "" {
			return why
		}
	} else if !api.ValidCommit(q.Commit) {
		return fmt.Sprintf("commit %q is not a full 40-hex SHA", q.Commit)
	} else if len(q.Authors) == 0 {
		return "the change has no author"
	}
	if why := r.validatePromotion(); why != "" {
		return why
	}
	switch {
	case !r.pol.Known(q.Requester):
		return fmt.Sprintf("requester %q is not an identity of the policy", q.Requester)
	}
	if _, err := r.judging().Requester(r.judged(), judge.Claim{Requester: q.Requester, Commit: q.Commit,
		Authors: q.Authors, Proof: q.RequestProof}); err != nil {
		return err.Error()
	}
	for _, a := range q.Authors {
		if !r.pol.Known(a) {
			return fmt.Sprintf("author %q is not an identity of the policy", a)
		}
	}
	for _, g := range policy.Gates {
		if _, ok := r.pol.Rule(q.Environment, g); !ok {
			return fmt.Sprintf("no rule for gate %s in environment %q (fail closed)", g, q.Environment)
		}
	}
	return ""
}

// stages runs the four duties in order; the first that does not pass ends the release.
func (r *release) stages(ctx workflow.Context) ending {
	if r.req.Promotes != nil {
		if err := r.adoptPromoted(ctx); err != nil {
			return r.stopped(ctx, api.StatusFailed, rootMessage(err))
		}
	} else if err := r.build(ctx); err != nil {
		return r.stopped(ctx, api.StatusFailed, "build failed: "+rootMessage(err))
	}
	if why := r.requirementMet(ctx, "before the review"); why != "" {
		return r.stopped(ctx, api.StatusFailed, why)
	}
	passed, err := r.review(ctx)
	if err != nil {
		return r.stopped(ctx, api.StatusFailed, "review checks failed to run: "+rootMessage(err))
	}
	if !passed {
		return endWith(api.StatusRejected, "automated review checks failed")
	}
	if e := r.gateStage(ctx, policy.GateReview, api.StageReview, api.StatusAwaitingReview); e.over() {
		return e
	}
	if why := r.requirementMet(ctx, "as the approval gate opens"); why != "" {
		return r.stopped(ctx, api.StatusFailed, why)
	}
	r.startStage(ctx, api.StageApprove, api.StatusAwaitingApproval, "asking the approvers of "+r.req.Environment)
	if e := r.gateStage(ctx, policy.GateApproval, api.StageApprove, api.StatusAwaitingApproval); e.over() {
		return e
	}
	if e := r.waitFreeze(ctx); e.over() {
		return e
	}
	e := r.deploy(ctx)
	if e.status == api.StatusDeployed && r.emergency() {
		return r.followUp(ctx)
	}
	return e
}

// validatePromotion: a promotion names its release and carries its
// provenance; anything else is checked against the signed provenance.
func (r *release) validatePromotion() string {
	p := r.req.Promotes
	switch {
	case (p != nil || len(r.req.Emergency) > 0) && !r.promo.enabled:
		return "this release predates promotions and emergencies"
	case p == nil:
		return ""
	case p.Release == "" || len(p.Provenance) == 0:
		return "a promotion needs the promoted release and its build provenance"
	case p.Release == r.id:
		return "a release cannot promote itself"
	}
	return ""
}

// stopped turns a failure into the cancel outcome when a cancel caused it.
func (r *release) stopped(ctx workflow.Context, status, reason string) ending {
	if r.cancelled() {
		return endWith(api.StatusCancelled, r.cancelReason())
	}
	if ctx.Err() != nil {
		return endWith(api.StatusCancelled, "workflow cancelled through Temporal")
	}
	return endWith(status, reason)
}

func (r *release) cancelReason() string {
	return fmt.Sprintf("cancelled by %s: %s", r.cancel.Identity, r.cancel.Reason)
}

// gateStage opens a gate, asks its signers and waits for the outcome.
// It returns goOn when the gate approved.
func (r *release) gateStage(ctx workflow.Context, name, stage, status string) ending {
	r.setStage(ctx, stage, status)
	g := r.openGate(ctx, name)
	r.prompt(ctx, g)
	err := r.waitGate(ctx, g)
	r.closeGate(g)
	r.observeGate(ctx, g)
	r.notifyOutcome(ctx, g, err == nil && !r.cancelled() && g.state == api.GateApproved)
	switch {
	case err != nil || r.cancelled():
		return r.stopped(ctx, api.StatusFailed, "gate wait failed: "+rootMessage(err))
	case g.state == api.GateRejected:
		last := g.signed[len(g.signed)-1]
		return endWith(api.StatusRejected, fmt.Sprintf("gate %s rejected by %s: %s", name, last.Identity, last.Comment))
	case g.state == api.GateExpired:
		return endWith(api.StatusExpired, fmt.Sprintf("gate %s expired at %s with %d of %d approvals",
			name, g.deadline.Format(time.RFC3339), g.approvals(), g.rule.Quorum))
	}
	return goOn
}

// waitFreeze holds an approved release until the approval gate's freeze
// windows are over: no deploy inside them.
func (r *release) waitFreeze(ctx workflow.Context) ending {
	for {
		w, frozen := r.pol.Frozen(r.req.Environment, policy.GateApproval, workflow.Now(ctx))
		if !frozen {
			return goOn
		}
		r.setStage(ctx, api.StageDeploy, api.StatusFrozen)
		r.record(ctx, audit.Entry{Type: audit.EventFreezeWait, Stage: api.StageDeploy,
			Detail: fmt.Sprintf("freeze window %q until %s: deploy waits", w.Reason, w.End.Format(time.RFC3339))})
		_, err := workflow.AwaitWithTimeout(ctx, w.End.Sub(workflow.Now(ctx)), r.cancelled)
		if err != nil || r.cancelled() {
			return r.stopped(ctx, api.StatusFailed, "freeze wait failed: "+rootMessage(err))
		}
	}
}

// deploy runs deploy then verify; a failure, or a cancel, rolls back.
func (r *release) deploy(ctx workflow.Context) ending {
	r.startStage(ctx, api.StageDeploy, api.StatusDeploying, "deploying sha256:"+r.artifact.Digest)
	res, err := r.step(ctx, stepDeploy, fmt.Sprintf("deploy: %s to %s", r.what(), r.req.Environment))
	why := "deploy failed: " + rootMessage(err) + res.Output
	var failedVerify attest.Envelope
	if err == nil && res.OK && !r.cancelled() {
		res, err = r.step(ctx, stepVerify, fmt.Sprintf("deploy: verify %s in %s", r.what(), r.req.Environment))
		why = "verification failed: " + rootMessage(err) + res.Output
		if err == nil && !res.OK && r.scoped() {
			failedVerify = res.Receipt
		}
	}
	if err == nil && res.OK && !r.cancelled() {
		return endWith(api.StatusDeployed, "")
	}
	e := endWith(api.StatusRolledBack, why)
	if r.cancelled() || ctx.Err() != nil {
		e = r.stopped(ctx, api.StatusFailed, why)
		e.reason += " during deploy; rolled back"
	}
	if rbErr := r.rollback(ctx, e.reason, failedVerify); rbErr != nil {
		return endWith(api.StatusFailed, e.reason+"; rollback failed, the environment needs a human")
	}
	return e
}

// finish seals the release: final entry, result, outcome message.
func (r *release) finish(ctx workflow.Context, e ending) api.ReleaseResult {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	status, reason := e.status, e.reason
	r.status = status
	r.record(ctx, audit.Entry{Type: audit.EventReleaseEnded, Stage: r.stage, Outcome: status, Detail: reason})
	if r.trust.signed {
		r.closing = r.sealClosesTrail(ctx)
		r.seal(ctx, status)
	}
	res := api.ReleaseResult{Status: status, Reason: reason, ArtifactRef: r.artifact.ArtifactRef,
		ArtifactDigest: r.artifact.Digest, PolicyHash: r.policyHash, AuditHead: r.chain.Head(), Commit: r.src.commit}
	r.result = &res
	r.publishNow(ctx)
	r.countRelease(ctx, status, reason)
	r.notify(ctx, r.notification(api.NotifyOutcome, r.gate, reason))
	r.flushNotices(ctx)
	return res
}
