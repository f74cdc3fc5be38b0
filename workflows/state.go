package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/policy"
)

// release is the state of one Release workflow: the request, what it is
// judged under, what it has proven, its gates and its trail. Each part
// keeps its own state and does its own work (pin.go, source.go, gates.go,
// emergency.go, refusals.go); the release runs the stages and records what
// they did. Everything the queries answer is derived from it. Runtime
// handles (cancel funcs, futures) live apart, in rt.
type release struct {
	id        string             // the workflow id: every signed fact is bound to it
	req       api.ReleaseRequest // as started
	version   workflow.Version   // of changeRelease: versionFloor or newer
	pin       pin                // the pinned policy and its keys
	progress  progress           // stage, status, who ran them
	artifact  api.BuildResult    // what was built or promoted, from its verified provenance
	evidence  evidence           // the other verified statements the deploy role is handed
	src       source             // the change, as git and the build role said
	emergency emergency          // a verified break-glass declaration
	gates     gates              // every gate opened and the outcomes of decisions
	cancel    *api.CancelRequest // an accepted cancel
	refusals  refusals           // the last refusal, and refusals per sender
	trail     trail              // the audit chain
	result    *api.ReleaseResult // set once the release ended
	rt        *handles           // runtime handles: no part of what the release is
}

func newRelease(ctx workflow.Context, req api.ReleaseRequest, v workflow.Version) *release {
	info := workflow.GetInfo(ctx).WorkflowExecution
	return &release{
		id: info.ID, req: req, version: v,
		pin:      pin{release: info.ID, run: info.RunID},
		src:      source{ref: req.Commit, declared: req.Authors},
		gates:    gates{misdirected: map[string]api.DecisionOutcome{}},
		refusals: refusals{bySender: map[string]int{}},
		rt:       &handles{validated: map[string]api.Decision{}},
	}
}

// progress is where the release is: its stage, status and who ran them.
type progress struct {
	stage     string
	status    string
	since     time.Time // when the stage began
	executors []string  // worker identities that ran a stage
}

// addExecutor adds a worker identity once; it reports whether it was new.
func (p *progress) addExecutor(identity string) bool {
	if identity == "" || contains(p.executors, identity) {
		return false
	}
	p.executors = append(p.executors, identity)
	return true
}

// evidence is what the deploy role is handed besides the provenance (the
// artifact's): the review's verdict and the accepted decisions.
type evidence struct {
	review    attest.Envelope
	decisions []attest.Envelope // in the order accepted
}

// trail is the release's audit chain.
type trail struct {
	chain   audit.Chain
	now     time.Time // workflow time of the last entry: the queries judge at it
	closing bool      // the release ended: only the seal joins the trail
}

// add stamps e and appends it, unless the trail only takes the seal now.
func (t *trail) add(e audit.Entry, release string, now time.Time) (audit.Entry, bool) {
	if t.closing && e.Type != audit.EventSealed {
		return audit.Entry{}, false
	}
	t.now = now
	e.Time, e.Release = now, release
	return t.chain.Append(e), true
}

// handles are the release's runtime handles: how to stop the running
// stage, the notices sent, whether the state awaits publishing,
// and the decisions an Update validator just verified. A replay rebuilds
// each; none is part of what the release is.
type handles struct {
	stopStage workflow.CancelFunc
	notices   []workflow.Future // every notice sent, in order
	dirty     bool
	held      workflow.Future // publishing waits for it (holdPublishing)
	unshown   bool            // a change the current details do not show yet
	// validated holds decisions the decide validator just verified, by
	// envelope bytes, for the handler that runs right after it in the same
	// task: one signature check per decision. On replay validators do not
	// run and the handler verifies again, with the same result.
	validated map[string]api.Decision
}

// stop cancels the running stage, if any.
func (h *handles) stop() {
	if h.stopStage != nil {
		h.stopStage()
	}
}

// takeValidated is the decision the validator admitted for env, once.
func (h *handles) takeValidated(env attest.Envelope) (api.Decision, bool) {
	d, ok := h.validated[string(env)]
	delete(h.validated, string(env))
	return d, ok
}

// record appends one entry to the audit chain at workflow time. Every
// transition is recorded, so it also publishes the new state.
func (r *release) record(ctx workflow.Context, e audit.Entry) {
	sealed, ok := r.trail.add(e, r.id, workflow.Now(ctx).UTC())
	if !ok {
		return // the release has ended: its trail ends with the seal
	}
	r.logEntry(ctx, sealed)
	r.refreshAwaiting()
	r.rt.dirty, r.rt.unshown = true, true
}

// logEntry logs an entry as this execution computed it, with the workflow
// task it was computed in. The workflow logger is silent on replay, so the
// log holds what the worker saw first: a trail whose replay disagrees with
// the result can be compared, entry by entry, with it (issue 27).
func (r *release) logEntry(ctx workflow.Context, e audit.Entry) {
	info := workflow.GetInfo(ctx)
	env := sha256.Sum256(e.Envelope)
	r.meter().logger(ctx).Info("audit entry", "seq", e.Seq, "type", e.Type, "time", e.Time.Format(time.RFC3339Nano),
		"actor", e.Actor, "outcome", e.Outcome, "detail", e.Detail, "envelope", hex.EncodeToString(env[:6]),
		"prev", e.Prev, "hash", e.Hash, "wft_attempt", info.Attempt, "history_length", info.GetCurrentHistoryLength())
}

// setStage moves the release to stage and status; a stage it leaves is
// timed (outcome "passed").
func (r *release) setStage(ctx workflow.Context, stage, status string) {
	if stage != r.progress.stage {
		if r.progress.stage != "" {
			r.meter().stageTime(ctx, "passed", r.progress.since)
		}
		r.progress.since = workflow.Now(ctx)
	}
	r.progress.stage, r.progress.status = stage, status
	r.meter().logger(ctx).Info("release stage", "status", status)
}

func (r *release) addExecutor(identity string) {
	if r.progress.addExecutor(identity) {
		r.refreshAwaiting() // executors may not sign: who may changes without a record
	}
}

// cancelled reports whether an accepted cancel is pending or done.
func (r *release) cancelled() bool { return r.cancel != nil }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// facts are what the policy asks of the release, at workflow time now; the
// gate adds itself, its signers and the identity (gate.check).
func (r *release) facts(now time.Time) policy.Check {
	return policy.Check{
		Environment: r.req.Environment, Authors: r.src.authors(), Signers: r.src.signers(&r.pin.policy),
		Unmapped: r.src.unmapped, Requester: r.req.Requester, Declarer: r.emergency.declarer(),
		Earlier: r.gates.earlier, Executors: r.progress.executors, Now: now,
	}
}

// refreshAwaiting recomputes who may sign the current gate, at the time of
// the last recorded step (what the status query always answered with).
func (r *release) refreshAwaiting() {
	if g := r.gates.current; g != nil {
		g.refreshAwaiting(&r.pin.policy, r.facts(r.trail.now))
	}
}
