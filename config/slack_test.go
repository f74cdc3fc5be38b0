package config

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestApprovalSlackSettings(t *testing.T) {
	const p = "FOUREYES_APPROVAL_"
	tests := []struct {
		name string
		vars []string
		want string // error prefix; "" loads
	}{
		{"no slack", nil, ""},
		{"bot token only (outbound)", []string{p + "SLACK_BOT_TOKEN", "xoxb"}, ""},
		{"signed clicks", []string{p + "SLACK_BOT_TOKEN", "xoxb", p + "SLACK_SIGNING_SECRET", "s", p + "SLACK_TEAM_ID", "T1"}, ""},
		{"socket mode", []string{p + "SLACK_BOT_TOKEN", "xoxb", p + "SLACK_APP_TOKEN", "xapp", p + "SLACK_TEAM_ID", "T1"}, ""},
		{"api url", []string{p + "SLACK_API_URL", "http://127.0.0.1:9/"}, ""},
		{"bad api url", []string{p + "SLACK_API_URL", "slack.test"}, p + "SLACK_API_URL: want an http(s) URL"},
		{"signing secret without team", []string{p + "SLACK_BOT_TOKEN", "xoxb", p + "SLACK_SIGNING_SECRET", "s"}, p + "SLACK_TEAM_ID: required"},
		{"app token without team", []string{p + "SLACK_BOT_TOKEN", "xoxb", p + "SLACK_APP_TOKEN", "xapp"}, p + "SLACK_TEAM_ID: required"},
		{"clicks without bot", []string{p + "SLACK_SIGNING_SECRET", "s", p + "SLACK_TEAM_ID", "T1"}, p + "SLACK_BOT_TOKEN: required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Load[Approval](context.Background(), RoleApproval, env(RoleApproval, tt.vars...))
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Nil(t, a)
			assert.NotContains(t, err.Error(), "xoxb", "secrets are never printed")
		})
	}
}
