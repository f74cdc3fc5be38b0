package workflows

import (
	"strings"
	"time"

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
