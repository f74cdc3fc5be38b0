package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/foureyes/foureyes/activities"
)

func TestStageOf(t *testing.T) {
	prompt := func(gate string) []any { return []any{activities.Notification{Gate: gate}} }
	for _, c := range []struct {
		activity string
		args     []any
		want     string
	}{
		{"LoadPolicy", nil, "start"}, {activities.ActivityDeployed, nil, "code"}, {activities.ActivityBuild, nil, "code"}, {activities.ActivityReview, nil, "review"},
		{activities.ActivityNotify, prompt("review"), "review"}, {activities.ActivityNotify, prompt("approval"), "approve"},
		{activities.ActivityDeploy, nil, "deploy"}, {activities.ActivityVerify, nil, "deploy"}, {activities.ActivityRollback, nil, "deploy"},
		{activities.ActivitySeal, nil, "end"},
	} {
		assert.Equal(t, c.want, stageOf(c.activity, c.args), c.activity)
	}
}
