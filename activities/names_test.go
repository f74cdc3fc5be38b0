package activities

import (
	"reflect"
	"slices"
	"testing"

	"github.com/foureyes/foureyes/api"
)

// TestQueueActivitiesAreTheRolesMethods: api.QueueActivities, from which
// the server's authorization is written, names exactly the methods each
// role's worker registers (RegisterActivity of its struct), sorted.
func TestQueueActivitiesAreTheRolesMethods(t *testing.T) {
	roles := map[string]any{
		api.QueueOrchestrator: &PolicyActivities{}, api.QueueBuild: &BuildActivities{},
		api.QueueReview: &ReviewActivities{}, api.QueueApproval: &ApprovalActivities{},
		api.QueueDeploy: &DeployActivities{},
	}
	if len(api.QueueActivities) != len(roles) {
		t.Errorf("api.QueueActivities has %d queues, want %d", len(api.QueueActivities), len(roles))
	}
	for queue, role := range roles {
		typ := reflect.TypeOf(role)
		var methods []string
		for i := range typ.NumMethod() {
			methods = append(methods, typ.Method(i).Name)
		}
		slices.Sort(methods)
		if got := api.QueueActivities[queue]; !slices.Equal(got, methods) {
			t.Errorf("api.QueueActivities[%s] = %q, the worker registers %q", queue, got, methods)
		}
	}
}
