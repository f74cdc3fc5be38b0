package workflows

import (
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.temporal.io/sdk/testsuite"

	"github.com/foureyes/foureyes/activities"
	"github.com/foureyes/foureyes/api"
)

// calledActivities are the method values the workflow calls, by the name
// each must carry: the name the recorded histories hold.
var calledActivities = map[string]any{
	api.ActivityLoadPolicy: policyRole.LoadPolicy, api.ActivitySeal: policyRole.Seal,
	api.ActivityBuild: buildRole.Build, api.ActivityReview: reviewRole.Review,
	api.ActivityNotify: approvalRole.Notify, api.ActivityDeployed: deployRole.Deployed,
	api.ActivityDeploy: stepDeploy.activity, api.ActivityVerify: stepVerify.activity,
	api.ActivityRollback: stepRollback.activity,
}

// TestActivityNames: each method value the workflow passes to
// ExecuteActivity is named, as the SDK names a function (its name after the
// last ".", without the method value's "-fm"), exactly as the histories
// record it; and the workers' registration of the role structs answers to
// that name.
func TestActivityNames(t *testing.T) {
	for want, fn := range calledActivities {
		full := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
		name := strings.TrimSuffix(full[strings.LastIndex(full, ".")+1:], "-fm")
		assert.Equal(t, want, name, "activity %s", full)
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	for _, role := range []any{&activities.PolicyActivities{}, &activities.BuildActivities{},
		&activities.ReviewActivities{}, &activities.ApprovalActivities{}, &activities.DeployActivities{}} {
		env.RegisterActivity(role) // as worker/roles.go does
	}
	for name := range calledActivities {
		_, err := env.ExecuteActivity(name)
		if err != nil {
			assert.NotContains(t, err.Error(), "unable to find activityType", "activity %s", name)
		}
	}
}

// TestWorkflowName: the workers register Release by its function, so its
// name is the one clients start (api.WorkflowRelease).
func TestWorkflowName(t *testing.T) {
	full := runtime.FuncForPC(reflect.ValueOf(Release).Pointer()).Name()
	assert.Equal(t, api.WorkflowRelease, full[strings.LastIndex(full, ".")+1:])
}
