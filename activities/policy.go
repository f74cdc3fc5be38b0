package activities

import (
	"context"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/policy"
)

// PolicyActivities are the orchestrator role's activities.
type PolicyActivities struct {
	Identity   string
	PolicyFile string
}

// LoadPolicy reads and validates the policy file, to be pinned into a release.
// A bad policy is non-retryable: retrying cannot fix the file.
func (a *PolicyActivities) LoadPolicy(ctx context.Context) (PolicySnapshot, error) {
	p, hash, err := policy.Load(a.PolicyFile)
	if err != nil {
		msg := err.Error()
		if !strings.Contains(msg, a.PolicyFile) {
			msg = a.PolicyFile + ": " + msg
		}
		return PolicySnapshot{}, temporal.NewNonRetryableApplicationError(
			"bad policy: "+msg, ErrTypeBadPolicy, err)
	}
	return PolicySnapshot{Policy: *p, Hash: hash, Path: a.PolicyFile}, nil
}
