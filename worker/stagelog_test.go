package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/foureyes/foureyes/api"
)

func TestStageOf(t *testing.T) {
	prompt := func(gate string) []any { return []any{api.Notification{Gate: gate}} }
	for _, c := range []struct {
		activity string
		args     []any
		want     string
	}{
		{"LoadPolicy", nil, "start"}, {api.ActivityDeployed, nil, "code"}, {api.ActivityBuild, nil, "code"}, {api.ActivityReview, nil, "review"},
		{api.ActivityNotify, prompt("review"), "review"}, {api.ActivityNotify, prompt("approval"), "approve"},
		{api.ActivityDeploy, nil, "deploy"}, {api.ActivityVerify, nil, "deploy"}, {api.ActivityRollback, nil, "deploy"},
		{api.ActivitySeal, nil, "end"},
	} {
		assert.Equal(t, c.want, stageOf(c.activity, c.args), c.activity)
	}
}
