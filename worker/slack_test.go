package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/config"
)

// The approval role takes Slack clicks only when configured for them: the
// route with a signing secret, Socket Mode with an app token.
func TestApprovalRoleSlackWiring(t *testing.T) {
	base := newTestKeys(t).env(t, "approval")
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

// manifest is the part of the Slack app manifest the code depends on.
type manifest struct {
	OAuth struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		Interactivity struct {
			IsEnabled  bool   `yaml:"is_enabled"`
			RequestURL string `yaml:"request_url"`
		} `yaml:"interactivity"`
		SocketMode *bool `yaml:"socket_mode_enabled"`
	} `yaml:"settings"`
}

// The manifest and docs/slack.md match the code: the route the
// gateway serves, the scope the notifier needs, every Slack setting.
func TestSlackManifestAndReadmeMatchCode(t *testing.T) {
	raw, err := os.ReadFile(repoFile(t, "deployments/slack-app-manifest.yaml"))
	require.NoError(t, err)
	var m manifest
	require.NoError(t, yaml.Unmarshal(raw, &m))
	assert.True(t, m.Settings.Interactivity.IsEnabled)
	u, err := url.Parse(m.Settings.Interactivity.RequestURL)
	require.NoError(t, err)
	assert.Equal(t, api.PathSlackInteractions, u.Path)
	assert.NotNil(t, m.Settings.SocketMode, "the Socket Mode switch is in the manifest")
	assert.Contains(t, m.OAuth.Scopes.Bot, "chat:write")

	doc, err := os.ReadFile(repoFile(t, "docs/slack.md"))
	require.NoError(t, err)
	section := string(doc)
	for _, f := range reflect.VisibleFields(reflect.TypeFor[config.Approval]()) {
		key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		if strings.HasPrefix(key, "SLACK_") {
			assert.Contains(t, section, config.Prefix(config.RoleApproval)+key)
		}
	}
	assert.Contains(t, section, "deployments/slack-app-manifest.yaml")
	assert.Contains(t, section, api.PathSlackInteractions)
}
