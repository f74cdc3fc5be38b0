package workflows

import (
	"time"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/audit"
)

// query answers one of the release's queries into out.
func (s *ReleaseSuite) query(name string, out any) {
	v, err := s.env.QueryWorkflow(name)
	s.Require().NoError(err)
	s.Require().NoError(v.Get(out))
}

// lastAwaitingUpsert is the last value of the awaiting search attribute.
func lastAwaitingUpsert(ups []map[string]any) []string {
	var last []string
	for _, u := range ups {
		if a, ok := u[api.AttrAwaiting.GetName()]; ok {
			last, _ = a.([]string)
		}
	}
	return last
}

// eligible lists the identities the explain query finds eligible.
func eligible(x api.ExplainResult) []string {
	var ids []string
	for _, e := range x.Identities {
		if e.Eligible {
			ids = append(ids, e.Identity)
		}
	}
	return ids
}

// awaitingAgree checks, a moment after a decision, that the status, the
// search attribute, the explain query and the last notification of kind
// (wantNotice: nil when no notice went out, e.g. for a refusal) name the
// same people.
func (s *ReleaseSuite) awaitingAgree(ups *[]map[string]any, kind string, wantNotice []string, want ...string) {
	var st api.Status
	var x api.ExplainResult
	s.query(api.QueryStatus, &st)
	s.query(api.QueryExplain, &x)
	s.ElementsMatch(want, st.Awaiting, "status")
	s.ElementsMatch(want, lastAwaitingUpsert(*ups), "search attribute")
	s.ElementsMatch(want, eligible(x), "explain")
	if wantNotice != nil {
		s.ElementsMatch(wantNotice, s.lastNotice(kind).Awaiting, "notification")
	}
}

// lastNotice is the last notification of kind sent.
func (s *ReleaseSuite) lastNotice(kind string) api.Notification {
	s.roles.mu.Lock()
	defer s.roles.mu.Unlock()
	for i := len(s.roles.notices) - 1; i >= 0; i-- {
		if s.roles.notices[i].Kind == kind {
			return s.roles.notices[i]
		}
	}
	s.Fail("no notification of kind " + kind)
	return api.Notification{}
}

// After every decision the status, the search attribute, the explain query
// and the notification agree on who may still sign: one answer, computed
// when the state changed. The decision that ends a gate is told by the
// gate's outcome notice, with nobody left to sign it.
func (s *ReleaseSuite) TestAwaitingAgreesEverywhereAfterEachDecision() {
	s.Require().NoError(s.env.SetTypedSearchAttributesOnStart(api.StartAttributes(request())))
	ups := s.upserts()
	after := func(at time.Duration, kind string, notice []string, want ...string) {
		s.env.RegisterDelayedCallback(func() { s.awaitingAgree(ups, kind, notice, want...) }, at+time.Second)
	}
	after(0, "", nil, "bob", "ci-bot")
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	after(time.Minute, api.NotifyOutcome, []string{}, "carol", "dave") // review decided; the approval gate is open
	s.decide(90*time.Second, "self", "approval", "alice", api.VerdictApprove)
	after(90*time.Second, "", nil, "carol", "dave") // a refusal changes nobody's eligibility
	s.decide(2*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	after(2*time.Minute, api.NotifyDecision, []string{"dave"}, "dave")
	s.decide(3*time.Minute, "a2", "approval", "dave", api.VerdictApprove)
	s.Equal(api.StatusDeployed, s.run().Status)
	var st api.Status
	s.query(api.QueryStatus, &st)
	s.Empty(st.Awaiting)
	s.Empty(lastAwaitingUpsert(*ups))
}

// A request id used at the review gate and again at the approval gate
// keeps its first outcome: the second decision is not judged or counted.
func (s *ReleaseSuite) TestRequestIDReusedAtTheNextGateKeepsItsFirstOutcome() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictApprove)
	s.decide(2*time.Minute, "r1", "approval", "carol", api.VerdictApprove)
	s.decide(3*time.Minute, "a1", "approval", "carol", api.VerdictApprove)
	s.decide(4*time.Minute, "a2", "approval", "dave", api.VerdictApprove)
	s.Equal(api.StatusDeployed, s.run().Status)
	o := s.outcome("r1")
	s.Equal("review", o.Gate)
	s.Equal(api.OutcomeAccepted, o.Outcome)
	s.Len(s.entries(audit.EventDecision), 3, "bob, then carol and dave once each")
}
