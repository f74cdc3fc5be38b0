package authz

// DefaultRoles are foureyes' task queues and activity types, as in the main
// module's workflows/types.go and activities/types.go (the stack writes its
// own config from those constants; these serve `temporal-server init`).
func DefaultRoles() map[string]RoleRules {
	return map[string]RoleRules{
		RoleOrchestrator: {TaskQueue: "foureyes-orchestrator", ActivityTypes: []string{"LoadPolicy", "Seal"},
			WorkflowTypes: []string{"Release"}},
		RoleBuild:    {TaskQueue: "foureyes-build", ActivityTypes: []string{"Build"}},
		RoleReview:   {TaskQueue: "foureyes-review", ActivityTypes: []string{"Review"}},
		RoleApproval: {TaskQueue: "foureyes-approval", ActivityTypes: []string{"Notify"}, Updates: []string{"decide", "cancel"}},
		RoleDeploy:   {TaskQueue: "foureyes-deploy", ActivityTypes: []string{"Deploy", "Verify", "Rollback"}},
	}
}
