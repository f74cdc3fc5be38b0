package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/foureyes/foureyes/activities"
	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/policy"
)

// TestOneNameRule: a service or environment name is accepted or refused
// alike by the policy, the starter and the deploy role (api.ValidName): a
// policy can no longer declare a name the starter or the deploy role refuses.
func TestOneNameRule(t *testing.T) {
	demo, err := os.ReadFile(filepath.Join("..", "deployments", "policy.yaml"))
	require.NoError(t, err)
	for _, name := range []string{"prod-eu", "eu2", "prod.eu", "prod_eu", "Prod", "-prod", strings.Repeat("p", 64)} {
		want := api.ValidName(name)
		content := strings.Replace(string(demo), "\n  prod:\n", "\n  "+name+":\n", 1)
		_, perr := policy.Parse("policy.yaml", []byte(content))
		assert.Equal(t, want, perr == nil, "policy with environment %q: %v", name, perr)
		if perr != nil {
			assert.Contains(t, perr.Error(), "policy.yaml: environments."+name)
		}
		req := api.ReleaseRequest{Service: "payments", Environment: name, Commit: "main", Requester: "rita"}
		serr := validateStart(&req)
		assert.Equal(t, want, serr == nil, "starter --env %q: %v", name, serr)
		aerr := deployedError(t, name)
		assert.Equal(t, want, !strings.Contains(aerr, "invalid environment"), "deploy role, environment %q: %s", name, aerr)
	}
}

// deployedError is the deploy role's answer to a Deployed for environment
// env, as text (a valid name fails later: the role has no signer here).
func deployedError(t *testing.T, env string) string {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestActivityEnvironment()
	d := &activities.DeployActivities{}
	e.RegisterActivity(d)
	_, err := e.ExecuteActivity(d.Deployed, api.DeployedInput{ReleaseID: "r-1", Service: "payments", Environment: env})
	require.Error(t, err)
	return err.Error()
}
