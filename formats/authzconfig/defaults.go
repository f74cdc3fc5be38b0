package authzconfig

// DefaultRoles are foureyes' task queues and the activity types each runs,
// as the main module's api names them (api/names.go, api.QueueActivities):
// the stack writes its own config from those constants, and devstack's
// TestServerRolesAreTheDefaults holds these to them; these serve
// `temporal-server init`.
func DefaultRoles() map[string]RoleRules {
	return map[string]RoleRules{
		RoleOrchestrator: {TaskQueue: "foureyes-orchestrator", ActivityTypes: []string{"LoadPolicy", "Seal"},
			WorkflowTypes: []string{"Release"}},
		RoleBuild:    {TaskQueue: "foureyes-build", ActivityTypes: []string{"Build"}},
		RoleReview:   {TaskQueue: "foureyes-review", ActivityTypes: []string{"Review"}},
		RoleApproval: {TaskQueue: "foureyes-approval", ActivityTypes: []string{"Notify"}, Updates: []string{"decide", "cancel"}},
		RoleDeploy:   {TaskQueue: "foureyes-deploy", ActivityTypes: []string{"Deploy", "Deployed", "Rollback", "Verify"}},
	}
}
