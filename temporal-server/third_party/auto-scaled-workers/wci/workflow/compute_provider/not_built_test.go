package computeprovider

import (
	"context"
	"strings"
	"testing"

	"go.temporal.io/auto-scaled-workers/wci/client"
	"go.temporal.io/auto-scaled-workers/wci/workflow/iface"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
)

// foureyes: an enabled provider that this copy leaves out gets an error saying so; a
// provider that is not enabled still gets upstream's (nil, nil).
func TestNotBuiltProviders(t *testing.T) {
	dc := dynamicconfig.NewCollection(dynamicconfig.StaticClient{
		client.WorkerControllerEnabledComputeProviders.Key(): []string{"aws-lambda", "aws-agentcore", "aws-ecs", "gcp-cloud-run", "k8s"},
	}, log.NewNoopLogger())
	for typ := range notBuiltProviders {
		p, err := GetComputeProvider(context.Background(), typ, "default", dc)
		if p != nil || err == nil || !strings.Contains(err.Error(), "not built in foureyes' server") {
			t.Errorf("%s: got %v, %v; want the not-built error", typ, p, err)
		}
	}
	p, err := GetComputeProvider(context.Background(), iface.ComputeProviderTypeAWSLambda, "default", dynamicconfig.NewNoopCollection())
	if p != nil || err != nil {
		t.Errorf("not enabled: got %v, %v; want nil, nil", p, err)
	}
}
