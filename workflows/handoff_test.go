package workflows

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
)

// TestDecidingTaskLeavesSearchAttributesToTheNext: in the recorded
// histories from versionPublishAfterHandOff, the workflow task that decides a
// gate and hands the next stage's activity to its role writes no search
// attributes (holdPublishing); the next task does, before the next stage
// ends. The histories recorded before it show the upsert in that task: the
// same check finds it there.
func TestDecidingTaskLeavesSearchAttributesToTheNext(t *testing.T) {
	var held, before int
	for _, rec := range recordedSince(t, versionLeanVisibility) {
		f, hist, v := rec.file, rec.hist, rec.version
		upserts := upsertTasks(hist)
		for _, task := range handOffTasks(t, hist) {
			if v < versionPublishAfterHandOff {
				before += upserts[task]
				continue
			}
			require.Zero(t, upserts[task], "%s: the task that decided a gate (completed event %d) upserted", filepath.Base(f), task)
			require.True(t, upsertAfter(upserts, task), "%s: nothing published after the deciding task %d", filepath.Base(f), task)
			held++
		}
	}
	require.NotZero(t, held, "no recorded history at v%d decides a gate", versionPublishAfterHandOff)
	require.NotZero(t, before, "the histories before v%d upsert in the deciding task: the check would find it", versionPublishAfterHandOff)
}

// handOffTasks are the workflow tasks (their completed events) that
// scheduled an approved gate's outcome notice and the next stage's first
// activity together: the deploy, or the next gate's prompt.
func handOffTasks(t *testing.T, hist *historypb.History) []int64 {
	next := map[int64]bool{}
	for _, ev := range hist.Events {
		if a := ev.GetActivityTaskScheduledEventAttributes(); a.GetActivityType().GetName() == api.ActivityDeploy {
			next[a.GetWorkflowTaskCompletedEventId()] = true
		}
	}
	notices := scheduledNotices(t, hist)
	for _, n := range notices {
		if n.Kind == api.NotifyPrompt {
			next[n.task] = true
		}
	}
	var tasks []int64
	for _, n := range notices {
		if n.Kind == api.NotifyOutcome && n.GateState == api.GateApproved && next[n.task] {
			tasks = append(tasks, n.task)
		}
	}
	return tasks
}

// upsertTasks counts the search-attribute upserts of each workflow task.
func upsertTasks(hist *historypb.History) map[int64]int {
	out := map[int64]int{}
	for _, ev := range hist.Events {
		if a := ev.GetUpsertWorkflowSearchAttributesEventAttributes(); a != nil {
			out[a.GetWorkflowTaskCompletedEventId()]++
		}
	}
	return out
}

func upsertAfter(upserts map[int64]int, task int64) bool {
	for t := range upserts {
		if t > task {
			return true
		}
	}
	return false
}

// TestFinalSearchAttributesAreWrittenWithTheClose: from
// versionPublishAfterHandOff an ended release upserts its final status in the
// task that closes it (holdUntilClose), so that the server writes the closed
// record once; before it, in the task that asked for the seal.
func TestFinalSearchAttributesAreWrittenWithTheClose(t *testing.T) {
	var atClose, before int
	for _, rec := range recordedSince(t, versionFailedEnds) {
		f, hist, v := rec.file, rec.hist, rec.version
		last, closing := lastUpsertTask(hist), closingTask(hist)
		require.NotZero(t, closing, "%s: not closed by a workflow task", filepath.Base(f))
		if v < versionPublishAfterHandOff {
			if last != closing {
				before++
			}
			continue
		}
		require.Equal(t, closing, last, "%s: the final search attributes were not written in the closing task", filepath.Base(f))
		atClose++
	}
	require.NotZero(t, atClose, "no recorded history at v%d", versionPublishAfterHandOff)
	require.NotZero(t, before, "the histories before v%d write them earlier: the check would find it", versionPublishAfterHandOff)
}

func lastUpsertTask(hist *historypb.History) int64 {
	var last int64
	for _, ev := range hist.Events {
		if a := ev.GetUpsertWorkflowSearchAttributesEventAttributes(); a != nil {
			last = a.GetWorkflowTaskCompletedEventId()
		}
	}
	return last
}

// closingTask is the workflow task whose command closed the run.
func closingTask(hist *historypb.History) int64 {
	ev := hist.Events[len(hist.Events)-1]
	if a := ev.GetWorkflowExecutionCompletedEventAttributes(); a != nil {
		return a.GetWorkflowTaskCompletedEventId()
	}
	if a := ev.GetWorkflowExecutionFailedEventAttributes(); a != nil {
		return a.GetWorkflowTaskCompletedEventId()
	}
	return ev.GetWorkflowExecutionCanceledEventAttributes().GetWorkflowTaskCompletedEventId()
}

// recorded is one recorded history with the version it took.
type recorded struct {
	file    string
	hist    *historypb.History
	version workflow.Version
}

// recordedSince are the recorded histories of version since or newer.
func recordedSince(t *testing.T, since workflow.Version) []recorded {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	require.NoError(t, err)
	var out []recorded
	for _, f := range files {
		hist := readHistory(t, f)
		if v := markerVersion(hist, changeRelease); v >= since {
			out = append(out, recorded{f, hist, v})
		}
	}
	return out
}

// The search attributes of the task that decided the approval gate wait for
// its outcome notice (holdPublishing): held until the deploy has started,
// "deploying" is published after it, not with the task that scheduled it.
func (s *ReleaseSuite) TestDeployingIsPublishedAfterTheHandOff() {
	s.Require().NoError(s.env.SetTypedSearchAttributesOnStart(api.StartAttributes(request())))
	var mu sync.Mutex
	var order []string
	s.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		if st, ok := args.Get(0).(temporal.SearchAttributes).GetKeyword(api.AttrStatus); ok {
			mu.Lock()
			order = append(order, st)
			mu.Unlock()
		}
	}).Return(nil)
	started := make(chan struct{})
	s.roles.onDeploy = func() {
		mu.Lock()
		order = append(order, "deploy started")
		mu.Unlock()
		close(started)
	}
	s.roles.holdNotice = holdApprovalOutcome(func() { <-started })
	s.approveAll()
	s.Equal(api.StatusDeployed, s.run().Status)
	mu.Lock()
	defer mu.Unlock()
	s.Equal([]string{api.StatusAwaitingReview, api.StatusAwaitingApproval, "deploy started", api.StatusDeploying, api.StatusDeployed}, order)
}

// An outcome notice that fails for good releases the hold as one that is
// sent: the release still publishes every state.
func (s *ReleaseSuite) TestAFailedOutcomeNoticeStillLetsTheStatePublish() {
	s.Require().NoError(s.env.SetTypedSearchAttributesOnStart(api.StartAttributes(request())))
	// The deploy waits (at most 10 s) for the held publish: finished first,
	// it would leave nothing for "deploying" to say.
	deploying, once := make(chan struct{}), sync.Once{}
	got := s.upserts(func(m map[string]any) {
		if m["ReleaseStatus"] == api.StatusDeploying {
			once.Do(func() { close(deploying) })
		}
	})
	s.roles.onDeploy = func() {
		select {
		case <-deploying:
		case <-time.After(10 * time.Second):
		}
	}
	s.roles.noticeErr = func(n api.Notification) error {
		if n.Kind == api.NotifyOutcome && n.Detail == "gate approved" {
			return temporal.NewNonRetryableApplicationError("slack is gone", "SlackDown", nil)
		}
		return nil
	}
	s.approveAll()
	s.Equal(api.StatusDeployed, s.run().Status)
	var statuses []any
	for _, u := range *got {
		if st, ok := u["ReleaseStatus"]; ok {
			statuses = append(statuses, st)
		}
	}
	s.Equal([]any{api.StatusAwaitingReview, api.StatusAwaitingApproval, api.StatusDeploying, api.StatusDeployed}, statuses)
}

// While the approval gate's search attributes are held for its outcome
// notice, the current details (what the UI's pane and queries show)
// already say the release is deploying and nobody is awaited.
func (s *ReleaseSuite) TestDetailsDoNotWaitForTheHeldPublish() {
	// Both the deploy and the notice wait while the details are read: the
	// workflow has nothing to run meanwhile.
	started, queried, shown := make(chan struct{}), make(chan struct{}), make(chan string, 1)
	s.roles.onDeploy = func() {
		close(started)
		<-queried
	}
	s.roles.holdNotice = holdApprovalOutcome(func() {
		<-started
		shown <- s.details()
		close(queried)
	})
	s.approveAll()
	s.Equal(api.StatusDeployed, s.run().Status)
	details := <-shown
	s.Contains(details, "**"+api.StatusDeploying+"**")
	s.Contains(details, "Awaiting: nobody")
}
