package activities

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/policy"
)

// PolicyActivities are the orchestrator role's activities.
type PolicyActivities struct {
	Identity   string
	PolicyFile string

	mu     sync.Mutex
	parsed map[string]*policy.Policy // by file hash: the file is read every time, parsed once per content
}

// LoadPolicy reads and validates the policy file, to be pinned into a release.
// A bad policy is non-retryable: retrying cannot fix the file.
func (a *PolicyActivities) LoadPolicy(ctx context.Context) (PolicySnapshot, error) {
	p, hash, err := a.load()
	if err != nil {
		msg := err.Error()
		if !strings.Contains(msg, a.PolicyFile) {
			msg = a.PolicyFile + ": " + msg
		}
		return PolicySnapshot{}, temporal.NewNonRetryableApplicationError(
			"bad policy: "+msg, ErrTypeBadPolicy, err)
	}
	return PolicySnapshot{Policy: p, Hash: hash, Path: a.PolicyFile}, nil
}

// load reads the policy file and parses it unless these exact bytes were
// parsed before (parsing was 5 % of the orchestrator's CPU; docs/benchmarks.md).
func (a *PolicyActivities) load() (*policy.Policy, string, error) {
	data, err := os.ReadFile(a.PolicyFile)
	if err != nil {
		return nil, "", fmt.Errorf("read policy: %w", err)
	}
	hash := policy.HashBytes(data)
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := a.parsed[hash]; ok {
		return p, hash, nil
	}
	p, err := policy.Parse(a.PolicyFile, data)
	if err != nil {
		return nil, "", err
	}
	if a.parsed == nil {
		a.parsed = map[string]*policy.Policy{}
	}
	a.parsed[hash] = p
	return p, hash, nil
}
