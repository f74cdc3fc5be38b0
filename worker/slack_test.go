package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The approval role takes Slack clicks only when configured for them: the
// route with a signing secret, Socket Mode with an app token.
func TestApprovalRoleSlackWiring(t *testing.T) {
	base := map[string]string{"FOUREYES_APPROVAL_POLICY_FILE": repoFile(t, "deploy/policy.yaml")}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	slack := []string{"FOUREYES_APPROVAL_SLACK_BOT_TOKEN", "xoxb-x", "FOUREYES_APPROVAL_SLACK_TEAM_ID", "T1"}
	cases := map[string]struct {
		env        map[string]string
		route      int
		background bool
	}{
		"console only":   {base, http.StatusNotFound, false},
		"bot token only": {with(slack...), http.StatusNotFound, false},
		"signed clicks":  {with(append(slack, "FOUREYES_APPROVAL_SLACK_SIGNING_SECRET", "s")...), http.StatusUnauthorized, false},
		"socket mode":    {with(append(slack, "FOUREYES_APPROVAL_SLACK_APP_TOKEN", "xapp-x")...), http.StatusNotFound, true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := approvalRole(context.Background(), roleEnv{lookup: envconfig.MapLookuper(c.env), stdout: io.Discard})
			require.NoError(t, err)
			assert.Equal(t, c.background, r.background != nil)
			h := r.handler(nil, slog.New(slog.DiscardHandler))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/slack/interactions", strings.NewReader("payload={}")))
			assert.Equal(t, c.route, rec.Code, "unsigned request")
		})
	}
}
