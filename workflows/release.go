package workflows

import (
	"encoding/json"
	"fmt"
	"strings"

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
	r := newRelease(ctx, req, releaseVersion(ctx))
	shown, requests := view{r}, &inbox{r}
	r.rt.startPublisher(ctx, shown)
	if err := shown.registerQueries(ctx); err != nil {
		return api.ReleaseResult{}, err
	}
	if err := requests.registerUpdates(ctx); err != nil {
		return api.ReleaseResult{}, err
	}
	return r.closeAs(r.finish(ctx, r.pipeline(ctx, requests)))
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

// pipeline pins the policy, records the start, validates the request, then
// takes requests and runs the stages.
func (r *release) pipeline(ctx workflow.Context, requests *inbox) ending {
	r.setStage(ctx, api.StageCode, api.StatusBuilding)
	if err := r.loadPolicy(ctx); err != nil {
		r.record(ctx, audit.Entry{Type: audit.EventReleaseStarted, Actor: r.req.Requester, Outcome: "failed",
			Detail: "policy could not be loaded: " + rootMessage(err)})
		return endWith(api.StatusFailed, "policy could not be loaded: "+rootMessage(err))
	}
	upsertPolicyMemo(ctx, r.pin.hash)
	r.record(ctx, audit.Entry{Type: audit.EventReleaseStarted, Actor: r.req.Requester, Channel: api.ChannelCLI,
		Detail: view{r}.describe(), Proof: requestProof(r.req)})
	if why := r.validate(); why != "" {
		return endWith(api.StatusFailed, why)
	}
	if why := r.checkEmergency(ctx); why != "" {
		unflagEmergency(ctx)
		return endWith(api.StatusFailed, why)
	}
	requests.listen(ctx)
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

func (v view) describe() string {
	r := v.r
	q := r.req
	by := strings.Join(q.Authors, ", ")
	if by == "" {
		by = "(authors from git)"
	}
	return fmt.Sprintf("%s to %s at %s by %s, requested by %s, policy sha256:%s: %s %s",
		q.Service, q.Environment, q.Commit, by, q.Requester, r.pin.hash, q.Title, q.Link)
}

// validate fails closed on a request the pinned policy cannot judge.
func (r *release) validate() string {
	q, pol := r.req, &r.pin.policy
	if why := r.src.check(pol, q.Service, q.Environment); why != "" {
		return why
	}
	if why := checkPromotion(q.Promotes, r.id); why != "" {
		return why
	}
	if !pol.Known(q.Requester) {
		return fmt.Sprintf("requester %q is not an identity of the policy", q.Requester)
	}
	if _, err := r.pin.judge().Requester(view{r}.judged(), judge.Claim{Requester: q.Requester, Commit: q.Commit,
		Authors: q.Authors, Proof: q.RequestProof}); err != nil {
		return err.Error()
	}
	for _, a := range q.Authors {
		if !pol.Known(a) {
			return fmt.Sprintf("author %q is not an identity of the policy", a)
		}
	}
	for _, g := range policy.Gates {
		if _, ok := pol.Rule(q.Environment, g); !ok {
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
	if e.status == api.StatusDeployed && r.emergency.on() {
		return r.followUp(ctx)
	}
	return e
}

// checkPromotion: a promotion names its release and carries its
// provenance; anything else is checked against the signed provenance.
func checkPromotion(p *api.Promotion, self string) string {
	switch {
	case p == nil:
		return ""
	case p.Release == "" || len(p.Provenance) == 0:
		return "a promotion needs the promoted release and its build provenance"
	case p.Release == self:
		return "a release cannot promote itself"
	}
	return ""
}

// stopped turns a failure into the cancel outcome when a cancel caused it.
func (r *release) stopped(ctx workflow.Context, status, reason string) ending {
	if r.cancelled() {
		return endWith(api.StatusCancelled, cancelReason(r.cancel))
	}
	if ctx.Err() != nil {
		return endWith(api.StatusCancelled, "workflow cancelled through Temporal")
	}
	return endWith(status, reason)
}

// cancelReason is how an accepted cancel ends the release.
func cancelReason(c *api.CancelRequest) string {
	return fmt.Sprintf("cancelled by %s: %s", c.Identity, c.Reason)
}

// deploy runs deploy then verify; a failure, or a cancel, rolls back.
func (r *release) deploy(ctx workflow.Context) ending {
	r.startStage(ctx, api.StageDeploy, api.StatusDeploying, "deploying sha256:"+r.artifact.Digest)
	res, err := r.step(ctx, stepDeploy, fmt.Sprintf("deploy: %s to %s", view{r}.what(), r.req.Environment))
	why := "deploy failed: " + rootMessage(err) + res.Output
	var failedVerify attest.Envelope
	if err == nil && res.OK && !r.cancelled() {
		res, err = r.step(ctx, stepVerify, fmt.Sprintf("deploy: verify %s in %s", view{r}.what(), r.req.Environment))
		why = "verification failed: " + rootMessage(err) + res.Output
		if err == nil && !res.OK {
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

// finish seals the release: final entry, seal, result, outcome message.
func (r *release) finish(ctx workflow.Context, e ending) api.ReleaseResult {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	atClose := r.version >= versionPublishAfterHandOff
	if atClose {
		r.rt.holdUntilClose(ctx)
	}
	r.progress.status = e.status
	r.record(ctx, audit.Entry{Type: audit.EventReleaseEnded, Stage: r.progress.stage, Outcome: e.status, Detail: e.reason})
	r.trail.closing = true
	r.seal(ctx, e.status)
	res := api.ReleaseResult{Status: e.status, Reason: e.reason, ArtifactRef: r.artifact.ArtifactRef,
		ArtifactDigest: r.artifact.Digest, PolicyHash: r.pin.hash, AuditHead: r.trail.chain.Head(), Commit: r.src.commit}
	r.result = &res
	if atClose {
		view{r}.showDetails(ctx) // published in the closing task, below
	} else {
		view{r}.publishNow(ctx)
	}
	r.meter().release(ctx, r.progress.since, e.status, e.reason)
	r.rt.notify(ctx, view{r}.notification(api.NotifyOutcome, r.gates.current, e.reason))
	r.rt.flushNotices(ctx, r.version >= versionAllNoticesSent)
	if atClose {
		view{r}.publishNow(ctx) // in the closing task (holdUntilClose)
	}
	return res
}
