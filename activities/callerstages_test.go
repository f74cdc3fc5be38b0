package activities

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
)

// stageEvents is a run's history: its start, a Build and a Review (the
// first Build attempt refused, then one that completed), and an activity
// of another type whose result looks like a build's.
func stageEvents(t *testing.T, req api.ReleaseRequest, prov, review attest.Envelope) []*historypb.HistoryEvent {
	dc := converter.GetDefaultDataConverter()
	payloads := func(v any) *commonpb.Payloads {
		p, err := dc.ToPayloads(v)
		require.NoError(t, err)
		return p
	}
	scheduled := func(id int64, name string) *historypb.HistoryEvent {
		return &historypb.HistoryEvent{EventId: id, Attributes: &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{
			ActivityTaskScheduledEventAttributes: &historypb.ActivityTaskScheduledEventAttributes{
				ActivityType: &commonpb.ActivityType{Name: name}}}}
	}
	completed := func(id, sched int64, v any) *historypb.HistoryEvent {
		return &historypb.HistoryEvent{EventId: id, Attributes: &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{
			ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{
				ScheduledEventId: sched, Result: payloads(v)}}}
	}
	return []*historypb.HistoryEvent{
		{EventId: 1, Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
			WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{Input: payloads(req)}}},
		scheduled(5, api.ActivityBuild), completed(7, 5, api.BuildResult{Provenance: prov}),
		scheduled(8, api.ActivityNotify), completed(10, 8, api.BuildResult{Provenance: attest.Envelope(`{"not":"this"}`)}),
		scheduled(11, api.ActivityReview), completed(13, 11, api.ReviewResult{Attestation: review}),
	}
}

// TestCallerTakesStagesFromItsHistory: the deploy role's evidence is what
// the run's Build and Review completed with, never another activity's
// result; a promotion's provenance is its start request's.
func TestCallerTakesStagesFromItsHistory(t *testing.T) {
	prov, review := attest.Envelope(`{"p":1}`), attest.Envelope(`{"r":1}`)
	var c Caller
	for _, ev := range stageEvents(t, api.ReleaseRequest{Service: "payments"}, prov, review) {
		require.NoError(t, c.take(converter.GetDefaultDataConverter(), ev))
	}
	assert.JSONEq(t, string(prov), string(c.Provenance))
	assert.JSONEq(t, string(review), string(c.Review))

	promoted := attest.Envelope(`{"promoted":1}`)
	var p Caller
	req := api.ReleaseRequest{Service: "payments", Promotes: &api.Promotion{Release: "rel-staging", Provenance: promoted}}
	for _, ev := range stageEvents(t, req, nil, review)[:1] {
		require.NoError(t, p.take(converter.GetDefaultDataConverter(), ev))
	}
	assert.JSONEq(t, string(promoted), string(p.Provenance))
}

// TestDeployReadsNoBundleFromItsInput: a valid bundle in the input counts
// for nothing when the run's history holds no Build and Review results.
func TestDeployReadsNoBundleFromItsInput(t *testing.T) {
	f, counter := counted(t, "0")
	in := f.input(t, "rel-1", commitA)
	f.editCaller = func(c *Caller) { c.Provenance, c.Review = nil, nil }
	_, err := execute[api.StepResult](t, f.d, f.d.Deploy, in)
	appErr := requireAppError(t, err, api.ErrTypeDeployRefused, true)
	assert.Contains(t, appErr.Error(), "build provenance: unsigned")
	assertNothingDeployed(t, f, counter, in)
}
