package workflows

import (
	"strings"

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
