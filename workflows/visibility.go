package workflows

import (
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
)

// publishNow makes the release's current state visible: the current details
// always, the search attributes (only those that changed) on new releases.
func (r *release) publishNow(ctx workflow.Context) {
	awaiting := r.awaiting()
	workflow.SetCurrentDetails(ctx, r.details(awaiting))
	if !r.visible {
		return
	}
	if ups := r.attributeUpdates(ctx, awaiting); len(ups) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, ups...); err != nil {
			workflow.GetLogger(ctx).Warn("search attributes not updated", "stage", r.stage, "error", err)
		}
	}
}

// awaiting is who may still sign the open gate (nobody once the release
// ended), as computed at the last state change.
func (r *release) awaiting() []string {
	if r.result != nil {
		return nil
	}
	return r.gate.whoMaySign()
}

// attributeUpdates are the search attributes whose value differs from the
// workflow's current ones, in a fixed order.
func (r *release) attributeUpdates(ctx workflow.Context, awaiting []string) []temporal.SearchAttributeUpdate {
	cur := workflow.GetTypedSearchAttributes(ctx)
	var ups []temporal.SearchAttributeUpdate
	for _, kv := range []struct {
		key temporal.SearchAttributeKeyKeyword
		val string
	}{{api.AttrService, r.req.Service}, {api.AttrEnvironment, r.req.Environment}, {api.AttrStatus, api.VisibleStatus(r.status)},
		{api.AttrRequester, r.req.Requester}, {api.AttrCommit, r.commitSHA()}} {
		if v, ok := cur.GetKeyword(kv.key); !ok || v != kv.val {
			ups = append(ups, kv.key.ValueSet(kv.val))
		}
	}
	if old, ok := cur.GetKeywordList(api.AttrAwaiting); !ok || !slices.Equal(old, awaiting) {
		ups = append(ups, api.AttrAwaiting.ValueSet(append([]string{}, awaiting...))) // [] when nobody
	}
	return ups
}

// upsertPolicyMemo adds the pinned policy's hash to the memo (the starter
// cannot know it).
func (r *release) upsertPolicyMemo(ctx workflow.Context) {
	if !r.visible || r.policyHash == "" {
		return
	}
	if err := workflow.UpsertMemo(ctx, map[string]any{"policy_hash": "sha256:" + r.policyHash}); err != nil {
		workflow.GetLogger(ctx).Warn("memo not updated", "error", err)
	}
}

// details is the release's current details (Temporal markdown, four lines
// to fit the UI's pane; the static summary names the change): status and
// open gate with its deadline, who is awaited and who signed, the last
// refusal, and (git sources) the change's commits.
func (r *release) details(awaiting []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- **%s**: %s", api.VisibleStatus(r.status), r.gateLine())
	fmt.Fprintf(&b, "- Awaiting: %s. Signed: %s\n", orNone(strings.Join(awaiting, ", ")), r.signedLine())
	b.WriteString(r.refusalLine())
	b.WriteString(r.changeLine())
	return b.String()
}

// changeLine lists the change's commits (short SHA, subject, author), the
// first five, and the emails that map to nobody; "" without git sources.
func (r *release) changeLine() string {
	c := r.src.change
	if c == nil {
		return ""
	}
	var parts []string
	for _, l := range r.commitLines(5) {
		parts = append(parts, "`"+l.Short+"` "+strings.TrimPrefix(l.Line(), l.Short+" "))
	}
	if more := c.CommitCount - len(parts); more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	line := fmt.Sprintf("- Change @ `%s`: %s\n", shortCommit(r.src.commit), strings.Join(parts, "; "))
	if len(r.src.unmapped) > 0 {
		line += fmt.Sprintf("- Unmapped emails: %s\n", strings.Join(r.src.unmapped, ", "))
	}
	return line
}

// gateLine names the open gate, its quorum and deadline, or how the release
// ended.
func (r *release) gateLine() string {
	switch {
	case r.result != nil:
		return strings.TrimSpace("release ended. "+r.result.Reason) + "\n"
	case r.gate != nil && r.gate.open():
		g := r.gate
		return fmt.Sprintf("open gate **%s**, %d of %s signed, deadline %s\n",
			g.name, g.approvals(), g.needed(), g.deadline.Format(shortTime))
	}
	return fmt.Sprintf("no gate open (stage %s)\n", r.stage)
}

// signedLine lists every accepted decision, gate by gate (the audit trail
// has the times and comments).
func (r *release) signedLine() string {
	var parts []string
	for _, g := range r.gates {
		for _, s := range g.signed {
			parts = append(parts, fmt.Sprintf("%s %sd %s via %s", s.Identity, s.Verdict, g.name, s.Channel))
		}
	}
	return orNone(strings.Join(parts, ", "))
}

func (r *release) refusalLine() string {
	f := r.refusal
	if f == nil {
		return "- Last refused: none\n"
	}
	return fmt.Sprintf("- Last refused: %s at %s via %s (%s): %s\n", f.Identity, f.Gate, f.Channel,
		f.At.Format(shortTime), f.Reason)
}

// shortTime keeps the details short enough for the UI's details pane.
const shortTime = "2006-01-02 15:04 UTC"

func orNone(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}

// shortCommit is the first 7 characters of a commit.
func shortCommit(c string) string {
	if len(c) > 7 {
		return c[:7]
	}
	return c
}
