package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
)

// noticeLines lists the notifications sent, as kind/gate/detail.
func (s *ReleaseSuite) noticeLines() []string {
	s.roles.mu.Lock()
	defer s.roles.mu.Unlock()
	var kinds []string
	for _, n := range s.roles.notices {
		kinds = append(kinds, n.Kind+"/"+n.Gate+"/"+n.Detail)
	}
	return kinds
}

// With lean notices a decision that decides its gate sends no "decision"
// notice: the gate's outcome notice tells it. A decision that leaves the
// gate open (the first of the approval's two) still does.
func (s *ReleaseSuite) TestLeanNoticesTellADecidingDecisionOnce() {
	s.approveAll()
	s.Equal(api.StatusDeployed, s.run().Status)
	kinds := s.noticeLines()
	s.ElementsMatch([]string{"decision/approval/carol approved"}, filterKind(kinds, api.NotifyDecision))
	s.Subset(kinds, []string{"outcome/review/gate approved", "outcome/approval/gate approved"})
}

func filterKind(kinds []string, kind string) []string {
	var out []string
	for _, k := range kinds {
		if strings.HasPrefix(k, kind+"/") {
			out = append(out, k)
		}
	}
	return out
}

// A release waits for every notice in flight before it closes, not only the
// last: the approved approval gate's outcome notice, sent from a coroutine,
// still taking its time when the release ends, is sent.
func (s *ReleaseSuite) TestEveryNoticeIsSentBeforeTheReleaseEnds() {
	s.roles.holdNotice = holdApprovalOutcome(func() { time.Sleep(300 * time.Millisecond) })
	s.approveAll()
	s.Equal(api.StatusDeployed, s.run().Status)
	s.Contains(s.noticeLines(), "outcome/approval/gate approved")
}

// Before versionAllNoticesSent only the last notice was waited for: the
// held one, released only once the workflow had closed, was dropped.
func (s *ReleaseSuite) TestOnlyTheLastNoticeWasWaitedForBeforeAllNoticesSent() {
	s.env.OnGetVersion(changeRelease, workflow.DefaultVersion, latestRelease).Return(workflow.Version(versionLeanVisibility))
	closed := make(chan struct{})
	s.roles.holdNotice = holdApprovalOutcome(func() { <-closed })
	s.approveAll()
	s.Equal(api.StatusDeployed, s.run().Status)
	s.NotContains(s.noticeLines(), "outcome/approval/gate approved")
	close(closed)
}

// holdApprovalOutcome runs hold before the approved approval gate's
// outcome notice is taken.
func holdApprovalOutcome(hold func()) func(api.Notification) {
	return func(n api.Notification) {
		if n.Kind == api.NotifyOutcome && n.Gate == "approval" && n.Detail == "gate approved" {
			hold()
		}
	}
}

// noticeKey names a notice of one release: kind, gate, detail, ended.
func noticeKey(n api.Notification) string {
	return fmt.Sprintf("%s/%s/%s/%v", n.Kind, n.Gate, n.Detail, n.Ended)
}

// sentNotices runs a release at version v whose gates are all approved and
// returns its notices by noticeKey, and its prompts by gate.
func (s *ReleaseSuite) sentNotices(v workflow.Version) (map[string]api.Notification, map[string]api.Notification) {
	s.SetupTest()
	s.env.OnGetVersion(changeRelease, workflow.DefaultVersion, latestRelease).Return(v)
	s.approveAll()
	s.Equal(api.StatusDeployed, s.run().Status)
	all, prompts := map[string]api.Notification{}, map[string]api.Notification{}
	for _, n := range s.roles.notices {
		all[noticeKey(n)] = n
		if n.Kind == api.NotifyPrompt {
			prompts[n.Gate] = n
		}
	}
	return all, prompts
}

// From versionLeanNoticeInputs a gate's prompt is its one notice that
// carries the release's facts: its later notices carry what changed, and
// with the prompt's facts they are, byte for byte, the notices sent before.
func (s *ReleaseSuite) TestEachNoticeCarriesTheReleaseFactsOncePerGate() {
	full, _ := s.sentNotices(versionAllNoticesSent)
	lean, prompts := s.sentNotices(versionLeanNoticeInputs)
	s.Require().Len(lean, len(full))
	s.Require().Len(prompts, 2)
	var fullBytes, leanBytes, laterFull, laterLean int
	withFacts := map[string]int{}
	for key, n := range lean {
		was, ok := full[key]
		s.Require().True(ok, "notice %s not sent before", key)
		s.False(was.FromPrompt, "before versionLeanNoticeInputs every notice carries the facts (%s)", key)
		s.Equal(n.Kind != api.NotifyPrompt, n.FromPrompt, "only a gate's prompt carries the facts (%s)", key)
		if n.FromPrompt {
			s.Equal(jsonOf(s, was), jsonOf(s, n.Complete(prompts[n.Gate])), "%s with its prompt's facts", key)
		}
		fullBytes, leanBytes = fullBytes+len(jsonOf(s, was)), leanBytes+len(jsonOf(s, n))
		if n.FromPrompt {
			laterFull, laterLean = laterFull+len(jsonOf(s, was)), laterLean+len(jsonOf(s, n))
		}
		for _, fact := range []string{digestOf(testCommit), testCommit, `"requester"`} {
			if strings.Contains(jsonOf(s, n), fact) {
				withFacts[fact]++
			}
		}
	}
	for fact, times := range withFacts {
		s.Equal(len(prompts), times, "%s is in each gate's prompt only", fact)
	}
	s.Less(laterLean, laterFull/3, "the later notices' inputs: %d bytes lean, %d before", laterLean, laterFull)
	s.T().Logf("notice inputs of a deployed release: %d notices, %d bytes before versionLeanNoticeInputs, %d from it (the %d later than their prompt: %d, %d)",
		len(lean), fullBytes, leanBytes, len(lean)-len(prompts), laterFull, laterLean)
}

// jsonOf is n as its activity input's payload carries it.
func jsonOf(s *ReleaseSuite, n api.Notification) string {
	p, err := converter.GetDefaultDataConverter().ToPayload(n)
	s.Require().NoError(err)
	return string(p.GetData())
}
