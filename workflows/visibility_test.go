package workflows

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/policy"
)

// upserts records every search attribute upsert, by attribute name.
func (s *ReleaseSuite) upserts(then ...func(map[string]any)) *[]map[string]any {
	var got []map[string]any
	s.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		m := map[string]any{}
		for k, v := range sa.GetUntypedValues() {
			m[k.GetName()] = v
		}
		got = append(got, m)
		for _, fn := range then {
			fn(m)
		}
	}).Return(nil)
	return &got
}

// details is the release's current details (what the UI shows).
func (s *ReleaseSuite) details() string {
	v, err := s.env.QueryWorkflow("__temporal_workflow_metadata") // what the UI asks

	s.Require().NoError(err)
	var md sdkpb.WorkflowMetadata
	s.Require().NoError(v.Get(&md))
	return md.GetCurrentDetails()
}

func (s *ReleaseSuite) TestSearchAttributesFollowTheRelease() {
	s.Require().NoError(s.env.SetTypedSearchAttributesOnStart(api.StartAttributes(request())))
	got := s.upserts()
	s.approveAll()
	s.Equal(api.StatusDeployed, s.run().Status)

	var statuses []any
	var awaiting [][]string
	for _, u := range *got {
		s.NotContains(u, "ReleaseService", "only changed attributes are upserted")
		if st, ok := u["ReleaseStatus"]; ok {
			statuses = append(statuses, st)
		}
		if a, ok := u["ReleaseAwaiting"]; ok {
			list, _ := a.([]string)
			awaiting = append(awaiting, list)
		}
	}
	s.Equal([]any{api.StatusAwaitingReview, api.StatusAwaitingApproval, api.StatusDeploying, api.StatusDeployed}, statuses)
	// review: bob or the bot; approval: carol and dave (not the author, requester or bob); then none.
	// Published once per workflow task: the moment between the review gate's end and the approval
	// gate's opening (one task) is never upserted.
	s.Equal([][]string{{"bob", "ci-bot"}, {"carol", "dave"}, {"dave"}, nil}, awaiting) // nil: []
	// versionLeanVisibility: once per gate transition. The review status waits
	// for the review gate's opening and is written with it.
	s.Len(*got, 5, "review opens, approval opens, carol signs, deploying, deployed: %v", *got)
	s.Contains((*got)[0], "ReleaseStatus")
	s.Contains((*got)[0], "ReleaseAwaiting")
}

// Before versionLeanVisibility the review status was written when the
// automated checks began, the review gate's signers in a later task, and an
// absent ReleaseAwaiting was written as [].
func (s *ReleaseSuite) TestSearchAttributesBeforeLeanVisibility() {
	s.env.OnGetVersion(changeRelease, workflow.DefaultVersion, latestRelease).Return(workflow.Version(versionFailedEnds))
	attrs := api.StartAttributes(request())
	s.Require().NoError(s.env.SetTypedSearchAttributesOnStart(attrs))
	got := s.upserts()
	s.approveAll()
	s.Equal(api.StatusDeployed, s.run().Status)
	s.Len(*got, 6, "%v", *got)
	s.Equal(map[string]any{"ReleaseStatus": api.StatusAwaitingReview}, without((*got)[0], "ReleaseCommit"))
}

// An absent ReleaseAwaiting (the server keeps no empty list) is nobody at
// versionLeanVisibility: nothing is written before the review gate opens.
func (s *ReleaseSuite) TestAbsentAwaitingIsNobody() {
	req := request()
	attrs := temporal.NewSearchAttributes(api.AttrService.ValueSet(req.Service), api.AttrEnvironment.ValueSet(req.Environment),
		api.AttrStatus.ValueSet(api.StatusBuilding), api.AttrRequester.ValueSet(req.Requester), api.AttrCommit.ValueSet(req.Commit))
	s.Require().NoError(s.env.SetTypedSearchAttributesOnStart(attrs))
	got := s.upserts()
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictReject)
	s.Equal(api.StatusRejected, s.run().Status)
	s.Len(*got, 2, "review opens, rejected: %v", *got)
	s.Equal([]string{"bob", "ci-bot"}, (*got)[0]["ReleaseAwaiting"])
}

func without(m map[string]any, key string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func (s *ReleaseSuite) TestMemoGetsThePolicyHash() {
	var memo map[string]any
	s.env.OnUpsertMemo(mock.Anything).Run(func(args mock.Arguments) {
		memo = args.Get(0).(map[string]any)
	}).Return(nil)
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictReject)
	s.run()
	s.Equal(map[string]any{"policy_hash": "sha256:" + s.binding().PolicySHA256}, memo)
}

func (s *ReleaseSuite) TestCurrentDetailsSayGateSignersAwaitedDeadlineAndRefusal() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.decide(90*time.Second, "self", "approval", "alice", api.VerdictApprove)
	s.decide(2*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.env.RegisterDelayedCallback(func() {
		d := s.details()
		for _, want := range []string{
			"- **awaiting_approval**: open gate **approval**, 1 of 2 of prod-owners signed",
			"deadline " + t0.Add(24*time.Hour+time.Minute).Format(shortTime),
			"Signed: bob approved review via api, carol approved approval via api",
			"Awaiting: dave", "Last refused: alice at approval via api (2026-03-02 09:01 UTC): you authored this change",
		} {
			s.Contains(d, want)
		}
	}, 150*time.Second)
	s.decide(3*time.Minute, "a2", "approval", "dave", api.VerdictApprove)
	s.run()
	s.Contains(s.details(), "- **deployed**: release ended.")
}

func (s *ReleaseSuite) TestMetricsCountDecisionsGatesStagesAndOutcome() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.decide(90*time.Second, "self", "approval", "alice", api.VerdictApprove)
	s.decide(2*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.decide(3*time.Minute, "a2", "approval", "dave", api.VerdictApprove)
	s.run()
	snap := s.scope.Snapshot()
	count := func(name string, tags map[string]string) int64 {
		var n int64
		for _, c := range snap.Counters() {
			if c.Name() == name && hasTags(c.Tags(), tags) {
				n += c.Value()
			}
		}
		return n
	}
	s.EqualValues(3, count(MetricDecisions, map[string]string{"outcome": api.OutcomeAccepted, "reason": "none", "channel": "api"}))
	s.EqualValues(1, count(MetricDecisions, map[string]string{"outcome": api.OutcomeRefused, "reason": "author", "gate": "approval"}))
	s.EqualValues(1, count(MetricReleases, map[string]string{"outcome": api.StatusDeployed, "environment": "prod", "service": "payments", "emergency": "false"}))
	timers := map[string]int{}
	for _, t := range snap.Timers() {
		timers[t.Name()+"/"+t.Tags()["gate"]+t.Tags()["stage"]] += len(t.Values())
	}
	s.Equal(1, timers[MetricGateWait+"/approval"])
	s.Equal(1, timers[MetricStageDuration+"/"+api.StageCode])
	s.Equal(1, timers[MetricStageDuration+"/"+api.StageDeploy])
}

func hasTags(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// Every rule's metric label is its code, whatever its message says:
// rewording a message (or a message that reads like another rule's) keeps
// its counts where they were.
func TestReasonLabelIsTheRuleCode(t *testing.T) {
	for _, rule := range append(slices.Clone(policy.Rules), api.JudgeRules...) {
		for _, reason := range []string{"", "reworded: " + string(rule), "you authored this change", "something new"} {
			o := api.DecisionOutcome{Outcome: api.OutcomeRefused, Rule: rule, Reason: reason}
			assert.Equal(t, string(rule), ReasonLabel(o), "%s: %q", rule, reason)
		}
	}
	assert.Equal(t, "none", ReasonLabel(api.DecisionOutcome{Outcome: api.OutcomeAccepted, Reason: "member of owners"}))
	assert.Equal(t, "gate_closed", ReasonLabel(api.DecisionOutcome{Outcome: api.OutcomeGateClosed, Rule: api.RuleGateClosed,
		Reason: "gate review is approved"}))
}

// A refusal's label does not move when its message is reworded.
func TestRewordedMessageKeepsItsLabel(t *testing.T) {
	o := api.DecisionOutcome{Outcome: api.OutcomeRefused, Rule: policy.RuleAuthor, Reason: "you authored this change"}
	before := ReasonLabel(o)
	o.Reason = "this change is yours: someone else must approve it"
	assert.Equal(t, "author", before)
	assert.Equal(t, before, ReasonLabel(o))
}

// The judge's codes are label values dashboards use: renaming one breaks them.
func TestJudgeRuleCodesAreStableLabels(t *testing.T) {
	var got []string
	for _, r := range api.JudgeRules {
		got = append(got, string(r))
	}
	assert.Equal(t, []string{"bad_verdict", "gate_closed", "unverified", "refusals_capped", "not_ready"}, got)
	assert.Equal(t, api.RuleRefusalsCapped, api.RuleOfError(api.ErrTypeRefusalsCapped))
	assert.Equal(t, api.RuleNotReady, api.RuleOfError(api.ErrTypeNotReady))
	assert.Empty(t, api.RuleOfError("SomethingElse"))
}

func (s *ReleaseSuite) TestVisibleStatusMapsInternalOnes() {
	s.Equal(api.StatusAwaitingReview, api.VisibleStatus(api.StatusReviewing))
	s.Equal(api.StatusDeploying, api.VisibleStatus(api.StatusFrozen))
	s.Equal(api.StatusRolledBack, api.VisibleStatus(api.StatusRolledBack))
}
