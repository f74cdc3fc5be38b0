package workflows

import (
	"reflect"
	"sync"

	"github.com/foureyes/foureyes/policy"
)

// pinned holds one decoded policy per file hash for every release of this
// worker: thousands of open releases pin the same file, and a policy is only
// read after decoding. Sharing it saves each cached release its own copy
// (a sixth of an open release's heap in go run ./bench).
var pinned sync.Map // hash -> policy.Policy

// sharedPolicy returns the policy already pinned under hash when it is the
// same as p, else p (and keeps p when hash is new).
func sharedPolicy(hash string, p policy.Policy) policy.Policy {
	v, loaded := pinned.LoadOrStore(hash, p)
	if !loaded {
		return p
	}
	if q := v.(policy.Policy); reflect.DeepEqual(q, p) {
		return q
	}
	return p
}
