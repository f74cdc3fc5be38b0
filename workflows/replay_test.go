package workflows

import (
	"errors"
	"fmt"
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

// TestReplayRecordedHistories replays histories recorded on the real stack
// (testdata/histories, written by `temporal workflow show -o json` through
// the integration test's recorder, see its RecordEnv). A change to the
// workflow that breaks determinism for running releases fails here: guard
// such a change with the next version of changeRelease (versions.go).
//
// A history at or above versionFloor replays to its recorded commands and
// audit head; one below it (one is kept) is refused, naming the floor.
// Each history is replayed under its own workflow id: every fact is bound
// to its release id, and under the replayer's default id a release would
// fail closed and take another path.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories: the replay test would prove nothing")
	var replayed, refused, heads, closed int
	ends := map[string]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			hist := readHistory(t, f)
			id := hist.Events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowId()
			require.NotEmpty(t, id, "the started event names the release")
			version := markerVersion(hist, changeRelease)
			if version < versionFloor {
				requireRefused(t, hist, id)
				refused++
				return
			}
			if version >= versionFailedEnds {
				requireClosedAsResult(t, hist)
				if hist.Events[len(hist.Events)-1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
					closed++
				}
			}
			requireOneWay(t, hist, !strings.Contains(f, "-promotion-too-early"))
			if replayToHead(t, hist, id) {
				heads++
			}
			replayed++
			ends[fmt.Sprintf("v%d %s", version, historyEnd(f))] = true
		})
	}
	require.Equal(t, 1, refused, "one history below the floor is kept, to test the refusal")
	require.NotZero(t, heads, "no recorded history ends with an audit head to compare")
	for _, end := range []string{"deployed", "rejected", "cancelled", "rolled-back", "deployed-promoted",
		"deployed-emergency", "failed-promotion-too-early"} {
		require.True(t, ends[fmt.Sprintf("v%d %s", latestRelease, end)], "no history at v%d of a release %s", latestRelease, end)
	}
	require.NotZero(t, closed, "no recorded history of a release that ended a failed or cancelled workflow (versionFailedEnds)")
	t.Logf("%d histories replayed at v%d or newer (%d to their audit head), %d refused below it", replayed, versionFloor, heads, refused)
}

// historyEnd is how a recorded release ended, from its file name
// (<service>-<env>-<status>[-<label>]-v<N>.json).
func historyEnd(file string) string {
	name := strings.TrimSuffix(filepath.Base(file), ".json")
	name = name[:strings.LastIndex(name, "-v")]
	parts := strings.SplitN(name, "-", 3)
	return parts[len(parts)-1]
}

// requireRefused: replaying a history below the floor fails with the
// refusal that names the floor, not with a nondeterminism error.
func requireRefused(t *testing.T, hist *historypb.History, id string) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(Release, workflow.RegisterOptions{Name: api.WorkflowRelease})
	err := r.ReplayWorkflowHistoryWithOptions(nil, hist,
		worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id}})
	require.Error(t, err)
	require.Contains(t, err.Error(), fmt.Sprintf("drain releases started before v%d first", versionFloor))
}

// markerVersion is the version the history recorded for change
// (DefaultVersion when it recorded none).
func markerVersion(hist *historypb.History, change string) workflow.Version {
	dc := converter.GetDefaultDataConverter()
	for _, ev := range hist.Events {
		d := ev.GetMarkerRecordedEventAttributes().GetDetails()
		var id string
		var v workflow.Version
		if d == nil || dc.FromPayloads(d["change-id"], &id) != nil || id != change {
			continue
		}
		if dc.FromPayloads(d["version"], &v) == nil {
			return v
		}
	}
	return workflow.DefaultVersion
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

// requireClosedAsResult: a history at versionFailedEnds or newer closed
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

func readHistory(t *testing.T, file string) *historypb.History {
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, hist.Events)
	return hist
}

// requireOneWay: a history at the floor took changeRelease (one version
// marker, no other) and, past a gate, its decisions as Updates, no
// "decision" notice for a decision that decided its gate, and the review
// gate's outcome notice never ahead of an approval prompt the same workflow
// task scheduled.
func requireOneWay(t *testing.T, hist *historypb.History, gated bool) {
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
