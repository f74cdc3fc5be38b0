package computeprovider

// foureyes: this file replaces aws.go, aws_agentcore.go, aws_ecs.go, aws_lambda.go,
// gcp.go, gcp_cloudrun.go and k8s.go of go.temporal.io/auto-scaled-workers
// v0.2.0-1.32.0.158.0, which foureyes' server does not build (see ../../../README.md).
// It keeps the GCP impersonation chain types that wci/fx.go wires (copied unchanged from
// gcp_cloudrun.go) and names the providers that are left out, so that asking for one
// gives an error that says so.

import (
	"context"
	"fmt"
	"math/rand"
	"sync"

	"go.temporal.io/auto-scaled-workers/wci/workflow/iface"
)

// notBuiltProviders are the compute providers of upstream that this copy leaves out.
var notBuiltProviders = map[iface.ComputeProviderType]bool{
	iface.ComputeProviderTypeAWSLambda:    true,
	iface.ComputeProviderTypeAWSAgentCore: true,
	iface.ComputeProviderTypeAWSECS:       true,
	iface.ComputeProviderTypeGCPCloudRun:  true,
	iface.ComputeProviderTypeK8s:          true,
}

// errNotBuilt is returned by GetComputeProvider for an enabled provider that this copy
// leaves out.
func errNotBuilt(providerType iface.ComputeProviderType) error {
	return fmt.Errorf("compute provider %q is not built in foureyes' server (its AWS, GCP and Kubernetes compute providers are left out)", providerType)
}

type (
	GCPImpersonationChainProvider interface {
		// ResolveChain returns the ordered impersonation delegates for the
		// given namespace. An empty/nil result means direct impersonation
		// (cell SA → customer SA, no intermediaries).
		ResolveChain(ctx context.Context, input ResolveChainInput) ([]string, error)
	}

	ResolveChainInput struct {
		Namespace          string
		GlobalSACandidates [][]string
	}

	NoopGCPImpersonationChainProvider struct{}
)

var (
	chainProviderMu sync.RWMutex
	chainProvider   GCPImpersonationChainProvider = NoopGCPImpersonationChainProvider{}
)

// SetGCPImpersonationChainProvider installs the process-wide chain provider used by
// the GCP Cloud Run compute provider. Called once at startup; defaults to the
// no-op impl. A nil provider is ignored so the default is preserved.
func SetGCPImpersonationChainProvider(p GCPImpersonationChainProvider) {
	chainProviderMu.Lock()
	defer chainProviderMu.Unlock()
	if p != nil {
		chainProvider = p
	}
}

func (NoopGCPImpersonationChainProvider) ResolveChain(_ context.Context, input ResolveChainInput) ([]string, error) {
	delegates := make([]string, 0, len(input.GlobalSACandidates))
	for _, step := range input.GlobalSACandidates {
		if len(step) == 0 {
			continue
		}
		picked := step[rand.Intn(len(step))]
		if picked == "" {
			return nil, fmt.Errorf("invalid empty intermediary service account email")
		}
		delegates = append(delegates, picked)
	}
	return delegates, nil
}
