package workflows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
)

// TestReplayRecordedHistories replays histories recorded on the real dev
// server (testdata/histories, written by `temporal workflow show -o json`;
// the *-signed.json and *-git.json ones by the integration test, see its
// RecordEnv: *-signed.json before git sources, *-git.json with them).
// A change to the workflow that breaks determinism for running releases fails
// here: guard such a change with workflow.GetVersion.
//
// Each history is replayed under its own workflow id: a release with signed
// attestations checks that every fact is bound to its release id, and under
// the replayer's default id it would fail closed and take another path.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories: the replay test would prove nothing")
	signed, git, promotions, lean := 0, 0, 0, 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			hist := readHistory(t, f)
			id := hist.Events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowId()
			require.NotEmpty(t, id, "the started event names the release")
			switch {
			case strings.HasSuffix(f, "-signed.json"):
				requireSignedPath(t, hist)
				require.False(t, hasMarker(hist, changeGitSources), "recorded before git sources")
				signed++
			case strings.HasSuffix(f, "-promotion-too-early.json"):
				// Refused at start by the promotion rule: no gate, no Update.
				require.True(t, hasMarker(hist, changeGitSources), "no %s version marker", changeGitSources)
			case strings.HasSuffix(f, "-git.json"):
				requireSignedPath(t, hist)
				require.True(t, hasMarker(hist, changeGitSources), "no %s version marker", changeGitSources)
				git++
			case strings.HasSuffix(f, "-lean.json"):
				requireLeanPath(t, hist, !strings.Contains(f, "-promotion-too-early"))
				lean++
			}
			if hasMarker(hist, changePromotions) {
				promotions++
			}
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(Release)
			require.NoError(t, r.ReplayWorkflowHistoryWithOptions(nil, hist,
				worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id}}))
		})
	}
	require.NotZero(t, signed, "no recorded history of a release with signed attestations")
	require.NotZero(t, git, "no recorded history of a release with git sources")
	require.GreaterOrEqual(t, promotions, 3, "the promotion paths (refused at start, promoted, emergency) are recorded")
	require.NotZero(t, lean, "no recorded history of a release with changeRelease (one marker, lean notices)")
}

// hasMarker reports whether the history took GetVersion(change).
func hasMarker(hist *historypb.History, change string) bool {
	for _, ev := range hist.Events {
		if ev.GetEventType() != enumspb.EVENT_TYPE_MARKER_RECORDED {
			continue
		}
		for _, p := range ev.GetMarkerRecordedEventAttributes().GetDetails()["change-id"].GetPayloads() {
			if string(p.GetData()) == `"`+change+`"` {
				return true
			}
		}
	}
	return false
}

func readHistory(t *testing.T, file string) *historypb.History {
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, hist.Events)
	return hist
}

// requireSignedPath: a *-signed.json history took the signed-attestations
// path (its version marker) and received its decisions or cancels as Updates.
func requireSignedPath(t *testing.T, hist *historypb.History) {
	marker, updates := false, 0
	for _, ev := range hist.Events {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			for _, p := range ev.GetMarkerRecordedEventAttributes().GetDetails()["change-id"].GetPayloads() {
				marker = marker || string(p.GetData()) == `"`+changeSignedAttestations+`"`
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			updates++
		}
	}
	require.True(t, marker, "no %s version marker", changeSignedAttestations)
	require.NotZero(t, updates, "no Update accepted")
}

// requireLeanPath: a *-lean.json history took changeRelease (one version
// marker, no other) and, past a gate, lean notices: no "decision" notice for
// a decision that decided its gate, and the review gate's outcome notice
// never ahead of the approval prompt scheduled in the same workflow task.
func requireLeanPath(t *testing.T, hist *historypb.History, gated bool) {
	var changes []string
	for _, ev := range hist.Events {
		for _, p := range ev.GetMarkerRecordedEventAttributes().GetDetails()["change-id"].GetPayloads() {
			changes = append(changes, string(p.GetData()))
		}
	}
	require.Equal(t, []string{`"` + changeRelease + `"`}, changes, "version markers")
	if !gated {
		return
	}
	require.NotZero(t, countEvents(hist, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED), "no Update accepted")
	prompts := map[int64]bool{} // workflow tasks that scheduled the approval prompt
	for _, n := range scheduledNotices(t, hist) {
		switch {
		case n.Kind == api.NotifyDecision:
			require.Equal(t, api.GateOpen, n.GateState, "decision notice (%s) for a decided gate", n.Detail)
		case n.Kind == api.NotifyPrompt && n.Gate == "approval":
			prompts[n.task] = true
		case n.Kind == api.NotifyOutcome && n.Gate == "review" && n.GateState == api.GateApproved:
			require.False(t, !prompts[n.task] && sameTaskPromptAfter(t, hist, n.task),
				"the review gate's outcome notice was scheduled ahead of the approval prompt")
		}
	}
}

// scheduledNotice is a Notify activity's input and the workflow task that
// scheduled it.
type scheduledNotice struct {
	api.Notification
	task int64
}

// scheduledNotices are the Notify activities' inputs in the order scheduled.
func scheduledNotices(t *testing.T, hist *historypb.History) []scheduledNotice {
	var out []scheduledNotice
	for _, ev := range hist.Events {
		a := ev.GetActivityTaskScheduledEventAttributes()
		if a.GetActivityType().GetName() != api.ActivityNotify {
			continue
		}
		var n api.Notification
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &n))
		out = append(out, scheduledNotice{n, a.GetWorkflowTaskCompletedEventId()})
	}
	return out
}

// sameTaskPromptAfter: the workflow task schedules an approval prompt
// (after what was seen so far).
func sameTaskPromptAfter(t *testing.T, hist *historypb.History, task int64) bool {
	for _, n := range scheduledNotices(t, hist) {
		if n.task == task && n.Kind == api.NotifyPrompt && n.Gate == "approval" {
			return true
		}
	}
	return false
}

func countEvents(hist *historypb.History, typ enumspb.EventType) int {
	n := 0
	for _, ev := range hist.Events {
		if ev.GetEventType() == typ {
			n++
		}
	}
	return n
}

// TestReplayEndsOnTheRecordedHead: replaying a release that completed ends
// on the audit head its result recorded. The replay test compares commands
// only; this compares the trail, which is workflow state an auditor exports
// from a replay (the audit query of a closed release).
func TestReplayEndsOnTheRecordedHead(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	require.NoError(t, err)
	compared := 0
	for _, f := range files {
		hist := readHistory(t, f)
		done := hist.Events[len(hist.Events)-1].GetWorkflowExecutionCompletedEventAttributes()
		var recorded api.ReleaseResult
		if done == nil || converter.GetDefaultDataConverter().FromPayloads(done.GetResult(), &recorded) != nil || recorded.AuditHead == "" {
			continue
		}
		var replayed api.ReleaseResult
		capture := func(ctx workflow.Context, req api.ReleaseRequest) (api.ReleaseResult, error) {
			res, err := Release(ctx, req)
			replayed = res
			return res, err
		}
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflowWithOptions(capture, workflow.RegisterOptions{Name: api.WorkflowRelease})
		id := hist.Events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowId()
		require.NoError(t, r.ReplayWorkflowHistoryWithOptions(nil, hist,
			worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id}}), f)
		require.Equal(t, recorded.AuditHead, replayed.AuditHead, "%s: the replay's audit head", filepath.Base(f))
		compared++
	}
	require.NotZero(t, compared, "no recorded history with an audit head")
	t.Logf("%d of %d histories replay to the audit head their result recorded", compared, len(files))
}
