package judge

import (
	"sync"

	"github.com/foureyes/foureyes/policy"
)

// Rule is one more separation rule: it may refuse a decision, never allow
// one the policy refuses.
type Rule func(policy.Check) policy.Verdict

var (
	rulesMu sync.RWMutex
	added   []Rule
)

// AddRule adds a separation rule to the one judge, for every caller in
// the process, and returns how to take it back. Tests use it to show that
// the workflow, the deploy role and the auditor all follow one judge: a
// rule added here reaches all three, and none has a copy of its own.
func AddRule(r Rule) (remove func()) {
	rulesMu.Lock()
	defer rulesMu.Unlock()
	added = append(added, r)
	n := len(added) - 1
	return func() {
		rulesMu.Lock()
		defer rulesMu.Unlock()
		added[n] = nil
	}
}

// addedVerdict applies the added rules after the policy's.
func addedVerdict(c policy.Check) (policy.Verdict, bool) {
	rulesMu.RLock()
	defer rulesMu.RUnlock()
	for _, r := range added {
		if r == nil {
			continue
		}
		if v := r(c); !v.Allowed {
			return v, true
		}
	}
	return policy.Verdict{}, false
}

// NoDave is the rule the tests add: dave may not approve anything.
func NoDave(c policy.Check) policy.Verdict {
	if c.Identity == "dave" && !c.Reject {
		return policy.Verdict{Rule: "added", Reason: "dave may not approve (added rule)"}
	}
	return policy.Verdict{Allowed: true}
}
