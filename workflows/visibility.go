package workflows

import (
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
)

// startPublisher runs a coroutine that publishes the state whenever it
// changed (record marks it), once per workflow task: after the coroutines
// that changed it have blocked. A gate decision would otherwise upsert up
// to three times in one task, each an event and a visibility write on the
// server (docs/benchmarks.md). It is disconnected from cancellation: the
// last state is always published.
//
// While publishing is held (holdPublishing), a change is shown in the
// current details at once and written to the search attributes later.
func (h *handles) startPublisher(ctx workflow.Context, v view) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	workflow.Go(dctx, func(ctx workflow.Context) {
		for workflow.Await(ctx, func() bool { return h.dirty && (h.held == nil || h.unshown) }) == nil {
			h.unshown = false
			if h.held != nil {
				v.showDetails(ctx)
				continue
			}
			h.dirty = false
			v.publishNow(ctx)
		}
	})
}

// holdPublishing holds the state's publishing, when hold is set
// (versionPublishAfterHandOff), until the notice the returned function is
// given has completed: a task later. The task that decides a gate hands the
// next stage's activity to its role; a search-attribute upsert in that task
// is a visibility write the server makes at the same moment, on the same
// database, and doubled the hand-off (docs/benchmarks.md, issue 26). The
// outcome notice sent in that task completes within milliseconds, so the
// search attributes trail the gate by that long (by the notice's retries
// when Slack is down); queries and the current details never trail.
func (h *handles) holdPublishing(ctx workflow.Context, hold bool) func(workflow.Future) {
	if !hold {
		return func(workflow.Future) {}
	}
	held, release := workflow.NewFuture(ctx)
	h.held = held
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	workflow.Go(dctx, func(ctx workflow.Context) {
		_ = held.Get(ctx, nil)
		if h.held == held {
			h.held = nil
		}
	})
	return func(notice workflow.Future) { release.Chain(notice) }
}

// holdUntilClose holds publishing for good (versionPublishAfterHandOff):
// the ending release writes its final search attributes in the task that
// closes it. The server writes a closed workflow's visibility record once,
// with the close, and skips the write of an upsert made in that task (a
// write per release saved, docs/benchmarks.md, issue 26); until then, for
// the seal and the last notice, ReleaseStatus still shows the last stage.
func (h *handles) holdUntilClose(ctx workflow.Context) {
	h.held, _ = workflow.NewFuture(ctx)
}

// showDetails shows the state in the current details only (queries and the
// UI's pane never trail a held publish).
func (v view) showDetails(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, v.details(v.awaiting()))
}

// publishNow makes the release's current state visible: the current
// details, and the search attributes that changed.
func (v view) publishNow(ctx workflow.Context) {
	awaiting := v.awaiting()
	workflow.SetCurrentDetails(ctx, v.details(awaiting))
	if ups := v.attributeUpdates(ctx, awaiting); len(ups) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, ups...); err != nil {
			workflow.GetLogger(ctx).Warn("search attributes not updated", "stage", v.r.progress.stage, "error", err)
		}
	}
}

// awaiting is who may still sign the open gate (nobody once the release
// ended), as computed at the last state change.
func (v view) awaiting() []string {
	r := v.r
	if r.result != nil {
		return nil
	}
	return r.gates.current.whoMaySign()
}

// attributeUpdates are the search attributes whose value differs from the
// workflow's current ones, in a fixed order.
func (v view) attributeUpdates(ctx workflow.Context, awaiting []string) []temporal.SearchAttributeUpdate {
	r := v.r
	cur := workflow.GetTypedSearchAttributes(ctx)
	var ups []temporal.SearchAttributeUpdate
	for _, kv := range []struct {
		key temporal.SearchAttributeKeyKeyword
		val string
	}{{api.AttrService, r.req.Service}, {api.AttrEnvironment, r.req.Environment}, {api.AttrStatus, api.VisibleStatus(r.progress.status)},
		{api.AttrRequester, r.req.Requester}, {api.AttrCommit, r.src.commitSHA()}} {
		if v, ok := cur.GetKeyword(kv.key); !ok || v != kv.val {
			ups = append(ups, kv.key.ValueSet(kv.val))
		}
	}
	old, ok := cur.GetKeywordList(api.AttrAwaiting)
	lean := r.version >= versionLeanVisibility
	if !slices.Equal(old, awaiting) || (!ok && !lean) { // lean: absent is nobody, as the server keeps []
		ups = append(ups, api.AttrAwaiting.ValueSet(append([]string{}, awaiting...))) // [] when nobody
	}
	if lean && v.gateNotOpenYet(awaiting) {
		return nil // written with the gate's opening (versionLeanVisibility)
	}
	return ups
}

// gateNotOpenYet reports whether the release is in a gate's stage whose
// gate has not opened: its status awaits a review or an approval, no gate
// is open, nobody is awaited, and the release goes on.
func (v view) gateNotOpenYet(awaiting []string) bool {
	r := v.r
	if r.result != nil || len(awaiting) > 0 || r.gates.current.open() {
		return false
	}
	switch api.VisibleStatus(r.progress.status) {
	case api.StatusAwaitingReview, api.StatusAwaitingApproval:
		return true
	}
	return false
}

// upsertPolicyMemo adds the pinned policy's hash to the memo (the starter
// cannot know it).
func upsertPolicyMemo(ctx workflow.Context, hash string) {
	if hash == "" {
		return
	}
	if err := workflow.UpsertMemo(ctx, map[string]any{"policy_hash": "sha256:" + hash}); err != nil {
		workflow.GetLogger(ctx).Warn("memo not updated", "error", err)
	}
}

// details is the release's current details (Temporal markdown, four lines
// to fit the UI's pane; the static summary names the change): status and
// open gate with its deadline, who is awaited and who signed, the last
// refusal, and the change's commits.
func (v view) details(awaiting []string) string {
	r := v.r
	var b strings.Builder
	fmt.Fprintf(&b, "- **%s**: %s", api.VisibleStatus(r.progress.status), v.gateLine())
	fmt.Fprintf(&b, "- Awaiting: %s. Signed: %s\n", orNone(strings.Join(awaiting, ", ")), r.gates.signedLine())
	b.WriteString(r.refusals.line())
	b.WriteString(r.src.line(&r.pin.policy))
	return b.String()
}

// gateLine names the open gate, its quorum and deadline, or how the release
// ended.
func (v view) gateLine() string {
	r := v.r
	switch g := r.gates.current; {
	case r.result != nil:
		return strings.TrimSpace("release ended. "+r.result.Reason) + "\n"
	case g.open():
		return fmt.Sprintf("open gate **%s**, %d of %s signed, deadline %s\n",
			g.name, g.approvals(), g.needed(), g.deadline.Format(shortTime))
	}
	return fmt.Sprintf("no gate open (stage %s)\n", r.progress.stage)
}
