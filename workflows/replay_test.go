package workflows

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
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
	signed, git, promotions, lean, heads, closed := 0, 0, 0, 0, 0, 0
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
			case strings.HasSuffix(f, "-closed.json"):
				requireClosedAsResult(t, hist)
				if hist.Events[len(hist.Events)-1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
					closed++
				}
			case strings.HasSuffix(f, "-lean.json"):
				requireLeanPath(t, hist, !strings.Contains(f, "-promotion-too-early"))
				lean++
			}
			if hasMarker(hist, changePromotions) {
				promotions++
			}
			if replayToHead(t, hist, id) {
				heads++
			}
		})
	}
	require.NotZero(t, signed, "no recorded history of a release with signed attestations")
	require.NotZero(t, git, "no recorded history of a release with git sources")
	require.GreaterOrEqual(t, promotions, 3, "the promotion paths (refused at start, promoted, emergency) are recorded")
	require.NotZero(t, lean, "no recorded history of a release with changeRelease (one marker, lean notices)")
	require.NotZero(t, heads, "no recorded history ends with an audit head to compare")
	require.NotZero(t, closed, "no recorded history of a release that ended a failed or cancelled workflow (versionFailedEnds)")
}

// replayToHead replays hist and, when the release completed with an audit
// head, requires the replay to end on the same head: the replayer compares
// commands only, and the trail is workflow state an auditor exports from a
// replay (the audit query of a closed release). It reports whether it
// compared a head.
func replayToHead(t *testing.T, hist *historypb.History, id string) bool {
	var replayed api.ReleaseResult
	var replayErr error
	capture := func(ctx workflow.Context, req api.ReleaseRequest) (api.ReleaseResult, error) {
		res, err := Release(ctx, req)
		replayed, replayErr = res, err
		if r, ok := api.CarriedResult(err); ok { // closed failed or cancelled (versionFailedEnds)
			replayed = r
		}
		return res, err
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(capture, workflow.RegisterOptions{Name: api.WorkflowRelease})
	require.NoError(t, r.ReplayWorkflowHistoryWithOptions(nil, hist,
		worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id}}))
	// The replayer compares a completed workflow's result, not how a
	// workflow closed: the replay must close as the history did.
	var cancelled *temporal.CanceledError
	switch last := hist.Events[len(hist.Events)-1].GetEventType(); last {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
		require.NoError(t, replayErr, "the history completed")
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
		_, carried := api.CarriedResult(replayErr)
		require.True(t, carried, "the history closed %s with its result; the replay returned %v", last, replayErr)
		require.Equal(t, last == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, errors.As(replayErr, &cancelled),
			"the history closed %s; the replay returned %v", last, replayErr)
	}
	recorded, ok := recordedResult(hist)
	if !ok || recorded.AuditHead == "" {
		return false
	}
	require.Equal(t, recorded.AuditHead, replayed.AuditHead, "the replay's audit head")
	return true
}

// recordedResult is the ReleaseResult the history closed with: a completed
// workflow's result, or the details of a failed or cancelled one
// (versionFailedEnds).
func recordedResult(hist *historypb.History) (api.ReleaseResult, bool) {
	last := hist.Events[len(hist.Events)-1]
	var payloads *commonpb.Payloads
	switch last.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
		payloads = last.GetWorkflowExecutionCompletedEventAttributes().GetResult()
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
		payloads = last.GetWorkflowExecutionFailedEventAttributes().GetFailure().GetApplicationFailureInfo().GetDetails()
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
		payloads = last.GetWorkflowExecutionCanceledEventAttributes().GetDetails()
	}
	var res api.ReleaseResult
	if payloads == nil || converter.GetDefaultDataConverter().FromPayloads(payloads, &res) != nil {
		return res, false
	}
	return res, true
}

// requireClosedAsResult: a *-closed.json history (versionFailedEnds) closed
// completed when deployed, cancelled when cancelled, failed otherwise, the
// result in the failure's details.
func requireClosedAsResult(t *testing.T, hist *historypb.History) {
	res, ok := recordedResult(hist)
	require.True(t, ok, "the history's close carries its ReleaseResult")
	want := map[string]enumspb.EventType{api.StatusDeployed: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
		api.StatusCancelled: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED}[res.Status]
	if want == enumspb.EVENT_TYPE_UNSPECIFIED {
		want = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED
		f := hist.Events[len(hist.Events)-1].GetWorkflowExecutionFailedEventAttributes().GetFailure()
		require.Equal(t, api.ErrTypeNotDeployed, f.GetApplicationFailureInfo().GetType())
		require.True(t, f.GetApplicationFailureInfo().GetNonRetryable())
	}
	require.Equal(t, want, hist.Events[len(hist.Events)-1].GetEventType(), "a %s release's close", res.Status)
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
// never ahead of an approval prompt the same workflow task scheduled.
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
	notices := scheduledNotices(t, hist)
	prompt := map[int64]int{} // workflow task -> position of its approval prompt
	for i, n := range notices {
		if n.Kind == api.NotifyPrompt && n.Gate == "approval" {
			prompt[n.task] = i
		}
	}
	for i, n := range notices {
		if n.Kind == api.NotifyDecision {
			require.Equal(t, api.GateOpen, n.GateState, "decision notice (%s) for a decided gate", n.Detail)
		}
		if p, ok := prompt[n.task]; ok && n.Kind == api.NotifyOutcome && n.Gate == "review" {
			require.Greater(t, i, p, "the review gate's outcome notice was scheduled ahead of the approval prompt")
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

func countEvents(hist *historypb.History, typ enumspb.EventType) int {
	n := 0
	for _, ev := range hist.Events {
		if ev.GetEventType() == typ {
			n++
		}
	}
	return n
}
