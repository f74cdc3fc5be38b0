package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/policy"
)

// release is the whole state of one Release workflow. Everything the queries
// answer is derived from it; it changes only in workflow code.
type release struct {
	id          string
	req         api.ReleaseRequest
	pol         policy.Policy
	policyHash  string
	stage       string
	status      string
	artifact    api.BuildResult
	executors   []string // worker identities that ran a stage
	earlier     []string // identities that signed an earlier gate
	gate        *gate    // the open (or last) gate; nil before the first
	chain       audit.Chain
	misdirected map[string]api.DecisionOutcome // of decisions naming no gate opened (gates keep theirs); looked up, never iterated
	refusal     *api.Refusal
	cancel      *api.CancelRequest // an accepted cancel
	stopStage   workflow.CancelFunc
	result      *api.ReleaseResult
	lastNotice  workflow.Future  // the last notification sent
	seq         int              // decisions seen, to name those without a request id
	now         time.Time        // workflow time of the last step, for queries
	visible     bool             // upserts search attributes and memo (versionVisible)
	batched     bool             // publishes once per workflow task (versionBatchedPublish)
	dirty       bool             // state changed since the last publish (batched)
	gates       []*gate          // every gate opened, in order
	stageAt     time.Time        // when the current stage began
	trust       trust            // keys and verified envelopes (signed attestations)
	src         source           // what git said (git sources)
	closing     bool             // ended: only the seal joins the trail (changeSealClosesTrail)
	promo       promo            // promotion and emergency (changePromotions)
	version     workflow.Version // GetVersion(changeRelease); DefaultVersion before it
}

func newRelease(ctx workflow.Context, req api.ReleaseRequest) *release {
	return &release{
		id:          workflow.GetInfo(ctx).WorkflowExecution.ID,
		trust:       trust{run: workflow.GetInfo(ctx).WorkflowExecution.RunID},
		req:         req,
		misdirected: map[string]api.DecisionOutcome{},
	}
}

// record appends one entry to the audit chain at workflow time. Every
// transition is recorded, so it also publishes the new state.
func (r *release) record(ctx workflow.Context, e audit.Entry) {
	if r.closing && e.Type != audit.EventSealed {
		return // the release has ended: its trail ends with the seal
	}
	r.now = workflow.Now(ctx).UTC()
	e.Time = r.now
	e.Release = r.id
	sealed := r.chain.Append(e)
	r.logEntry(ctx, sealed)
	r.refreshAwaiting()
	r.publish(ctx)
}

// logEntry logs an entry as this execution computed it, with the workflow
// task it was computed in. The workflow logger is silent on replay, so the
// log holds what the worker saw first: a trail whose replay disagrees with
// the result can be compared, entry by entry, with it (issue 27).
func (r *release) logEntry(ctx workflow.Context, e audit.Entry) {
	info := workflow.GetInfo(ctx)
	env := sha256.Sum256(e.Envelope)
	r.logger(ctx).Info("audit entry", "seq", e.Seq, "type", e.Type, "time", e.Time.Format(time.RFC3339Nano),
		"actor", e.Actor, "outcome", e.Outcome, "detail", e.Detail, "envelope", hex.EncodeToString(env[:6]),
		"prev", e.Prev, "hash", e.Hash, "wft_attempt", info.Attempt, "history_length", info.GetCurrentHistoryLength())
}

func (r *release) setStage(ctx workflow.Context, stage, status string) {
	r.enterStage(ctx, stage)
	r.stage, r.status = stage, status
	r.logger(ctx).Info("release stage", "status", status)
}

func (r *release) addExecutor(identity string) {
	if identity != "" && !contains(r.executors, identity) {
		r.executors = append(r.executors, identity)
		r.refreshAwaiting() // executors may not sign: who may changes without a record
	}
}

// cancelled reports whether an accepted cancel is pending or done.
func (r *release) cancelled() bool { return r.cancel != nil }

func (r *release) statusView() api.Status {
	s := api.Status{
		ReleaseID: r.id, Request: r.req, Stage: r.stage, Status: r.status,
		ArtifactRef: r.artifact.ArtifactRef, ArtifactDigest: r.artifact.Digest,
		PolicyHash: r.policyHash, LastRefusal: r.refusal,
		Executors: r.executors, Result: r.result,
	}
	if r.src.enabled {
		s.Commit, s.Authors, s.Change = r.src.commit, r.authors(), r.changeView()
	}
	if e := r.promo.declared; e != nil {
		s.Emergency = &api.EmergencyView{DeclaredBy: e.Identity, Reason: e.Reason}
	}
	if r.req.Promotes != nil {
		s.Promotes = r.req.Promotes.Release
	}
	if r.gate != nil {
		s.Quorum = r.gate.rule.Quorum
		s.Signed = r.gate.signed
		if r.gate.open() {
			s.Deadline = r.gate.deadline
			s.OpenGate = r.gate.name
			s.Awaiting = r.gate.whoMaySign()
		}
	}
	return s
}

func (r *release) registerQueries(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, api.QueryStatus, func() (api.Status, error) {
		return r.statusView(), nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, api.QueryAudit, func() (audit.Trail, error) {
		return audit.Trail{Entries: r.chain.Entries()}, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, api.QueryDecision, r.decisionOutcome); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, api.QueryBinding, r.bindingView); err != nil {
		return err
	}
	return workflow.SetQueryHandler(ctx, api.QueryExplain, func() (api.ExplainResult, error) {
		return r.explain(), nil
	})
}

func (r *release) decisionOutcome(requestID string) (api.DecisionOutcome, error) {
	if o, ok := r.outcome(requestID); ok {
		if r.gate != nil && r.gate.name == o.Gate {
			o.GateState = r.gate.state
		}
		return o, nil
	}
	return api.DecisionOutcome{RequestID: requestID, Outcome: api.OutcomePending}, nil
}

func (r *release) explain() api.ExplainResult {
	if r.gate == nil || !r.gate.open() {
		return api.ExplainResult{}
	}
	c := r.gate.check(r.facts(r.now), "")
	return api.ExplainResult{
		Gate: r.gate.name, Quorum: r.gate.rule.Quorum,
		Signed: r.gate.signerIDs(), Identities: r.pol.Explain(c),
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// bindingView answers QueryBinding: what the approval role binds a signed
// decision to (the artifact digest only once its provenance verified).
func (r *release) bindingView() (api.Binding, error) {
	b := api.Binding{ReleaseID: r.id, PolicyHash: r.policyHash, ArtifactDigest: r.artifact.Digest, Signed: r.trust.signed,
		Service: r.req.Service, Environment: r.req.Environment, RunID: r.trust.run}
	if r.req.Promotes != nil {
		b.Promotes = r.req.Promotes.Release
	}
	if r.gate != nil && r.gate.open() {
		b.OpenGate = r.gate.name
	}
	return b, nil
}
