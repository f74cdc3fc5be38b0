package config

import (
	"context"
	"fmt"
	"maps"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// required is the minimal environment each role starts with.
var required = map[string]map[string]string{
	RoleOrchestrator: {"FOUREYES_ORCHESTRATOR_POLICY_FILE": "policy.yaml",
		"FOUREYES_ORCHESTRATOR_SIGNING_KEY_FILE": "/keys/orchestrator.key"},
	RoleBuild: {"FOUREYES_BUILD_ARTIFACT_DIR": "/art", "FOUREYES_BUILD_SIGNING_KEY_FILE": "/keys/build.key",
		"FOUREYES_BUILD_POLICY_FILE": "build-policy.yaml"},
	RoleReview: {"FOUREYES_REVIEW_ARTIFACT_DIR": "/art",
		"FOUREYES_REVIEW_SIGNING_KEY_FILE": "/keys/review.key"},
	RoleApproval: {"FOUREYES_APPROVAL_POLICY_FILE": "policy.yaml",
		"FOUREYES_APPROVAL_SIGNING_KEY_FILE": "/keys/approval.key"},
	RoleDeploy: {"FOUREYES_DEPLOY_ARTIFACT_DIR": "/art", "FOUREYES_DEPLOY_STATE_DIR": "/state",
		"FOUREYES_DEPLOY_POLICY_FILE": "deploy-policy.yaml", "FOUREYES_DEPLOY_SIGNING_KEY_FILE": "/keys/deploy.key"},
}

func env(role string, extra ...string) envconfig.Lookuper {
	m := maps.Clone(required[role])
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return envconfig.MapLookuper(m)
}

// load calls Load with the role's own type.
func load(role string, l envconfig.Lookuper) (any, error) {
	ctx := context.Background()
	switch role {
	case RoleOrchestrator:
		return Load[Orchestrator](ctx, role, l)
	case RoleBuild:
		return Load[Build](ctx, role, l)
	case RoleReview:
		return Load[Review](ctx, role, l)
	case RoleApproval:
		return Load[Approval](ctx, role, l)
	case RoleDeploy:
		return Load[Deploy](ctx, role, l)
	}
	panic(role)
}

func hostIdentity(t *testing.T, role string) string {
	host, err := os.Hostname()
	require.NoError(t, err)
	return "foureyes-" + role + "@" + host
}

func TestLoadDefaults(t *testing.T) {
	id := func(r string) string { return hostIdentity(t, r) }
	tests := []struct {
		role string
		want any
	}{
		{RoleOrchestrator, &Orchestrator{Identity: id("orchestrator"), PolicyFile: "policy.yaml", CacheSize: 2000,
			SigningKeyFile: "/keys/orchestrator.key"}},
		{RoleBuild, &Build{Identity: id("build"), ArtifactDir: "/art", Timeout: 10 * time.Minute,
			PolicyFile: "build-policy.yaml", GitTimeout: 5 * time.Minute,
			SigningKeyFile: "/keys/build.key"}},
		{RoleReview, &Review{Identity: id("review"), ArtifactDir: "/art", Timeout: 10 * time.Minute,
			SigningKeyFile: "/keys/review.key"}},
		{RoleApproval, &Approval{Identity: id("approval"), PolicyFile: "policy.yaml",
			Listen: "127.0.0.1:8480", UIURL: "http://localhost:8233", SigningKeyFile: "/keys/approval.key", RatePerSecond: 5, RateBurst: 20,
			PageURL: "http://localhost:8480"}},
		{RoleDeploy, &Deploy{Identity: id("deploy"), ArtifactDir: "/art", StateDir: "/state", Timeout: 10 * time.Minute,
			PolicyFile: "deploy-policy.yaml", SigningKeyFile: "/keys/deploy.key"}},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			got, err := load(tt.role, env(tt.role))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLoadAllVariables(t *testing.T) {
	got, err := Load[Deploy](context.Background(), RoleDeploy, env(RoleDeploy,
		"FOUREYES_DEPLOY_IDENTITY", "foureyes-deploy@prod-1",
		"FOUREYES_DEPLOY_COMMAND", "deploy.sh",
		"FOUREYES_DEPLOY_VERIFY_COMMAND", "verify.sh",
		"FOUREYES_DEPLOY_ROLLBACK_COMMAND", "rollback.sh",
		"FOUREYES_DEPLOY_TIMEOUT", "90s",
		"FOUREYES_DEPLOY_CREDENTIALS", "s3cret",
		"FOUREYES_BUILD_TIMEOUT", "1s", // another role's non-secret: ignored
	))
	require.NoError(t, err)
	assert.Equal(t, &Deploy{
		Identity: "foureyes-deploy@prod-1", ArtifactDir: "/art", StateDir: "/state",
		Command: "deploy.sh", VerifyCommand: "verify.sh", RollbackCommand: "rollback.sh",
		Timeout: 90 * time.Second, Credentials: "s3cret",
		PolicyFile: "deploy-policy.yaml", SigningKeyFile: "/keys/deploy.key",
	}, got)

	a, err := Load[Approval](context.Background(), RoleApproval, env(RoleApproval,
		"FOUREYES_APPROVAL_LISTEN", ":9000", "FOUREYES_APPROVAL_UI_URL", "https://temporal.example",
		"FOUREYES_APPROVAL_SLACK_BOT_TOKEN", "xoxb", "FOUREYES_APPROVAL_SLACK_SIGNING_SECRET", "sig",
		"FOUREYES_APPROVAL_SLACK_APP_TOKEN", "xapp", "FOUREYES_APPROVAL_SLACK_TEAM_ID", "T1"))
	require.NoError(t, err)
	assert.Equal(t, ":9000", a.Listen)
	assert.Equal(t, "https://temporal.example", a.UIURL)
	assert.Equal(t, []string{"xoxb", "sig", "xapp", "T1"},
		[]string{a.SlackBotToken, a.SlackSigningSecret, a.SlackAppToken, a.SlackTeamID})
}

func TestLoadMissingRequired(t *testing.T) {
	for _, role := range Roles {
		for name := range required[role] {
			for _, val := range []string{"unset", ""} {
				t.Run(role+"/"+name+"/"+val, func(t *testing.T) {
					m := maps.Clone(required[role])
					delete(m, name)
					if val == "" {
						m[name] = "" // empty counts as unset
					}
					_, err := load(role, envconfig.MapLookuper(m))
					require.Error(t, err)
					assert.Equal(t, name+": missing required value", err.Error())
					assert.ErrorIs(t, err, envconfig.ErrMissingRequired)
				})
			}
		}
	}
}

func TestLoadBadValues(t *testing.T) {
	tests := []struct {
		role, name, value, want string
	}{
		{RoleBuild, "FOUREYES_BUILD_TIMEOUT", "soon", `FOUREYES_BUILD_TIMEOUT: time: invalid duration "soon"`},
		{RoleReview, "FOUREYES_REVIEW_TIMEOUT", "0s", "FOUREYES_REVIEW_TIMEOUT: must be positive, got 0s"},
		{RoleDeploy, "FOUREYES_DEPLOY_TIMEOUT", "-1m", "FOUREYES_DEPLOY_TIMEOUT: must be positive, got -1m0s"},
		{RoleApproval, "FOUREYES_APPROVAL_LISTEN", "8480", "FOUREYES_APPROVAL_LISTEN: want host:port: "},
		{RoleApproval, "FOUREYES_APPROVAL_UI_URL", "localhost:8233", `FOUREYES_APPROVAL_UI_URL: want an http(s) URL, got "localhost:8233"`},
		{RoleBuild, "FOUREYES_BUILD_IDENTITY", "foureyes-deploy@h", `FOUREYES_BUILD_IDENTITY: identity "foureyes-deploy@h" must start with "foureyes-build"`},
		{RoleOrchestrator, "FOUREYES_ORCHESTRATOR_IDENTITY", "bob", `FOUREYES_ORCHESTRATOR_IDENTITY: identity "bob" must start with "foureyes-orchestrator"`},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := load(tt.role, env(tt.role, tt.name, tt.value))
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), tt.want), "error %q", err)
		})
	}
}

func TestSecretVars(t *testing.T) {
	assert.Equal(t, map[string][]string{
		RoleOrchestrator: {"FOUREYES_ORCHESTRATOR_SIGNING_KEY_FILE"},
		RoleBuild:        {"FOUREYES_BUILD_REGISTRY_TOKEN", "FOUREYES_BUILD_SIGNING_KEY_FILE"},
		RoleReview:       {"FOUREYES_REVIEW_SCANNER_TOKEN", "FOUREYES_REVIEW_SIGNING_KEY_FILE"},
		RoleApproval: {"FOUREYES_APPROVAL_SLACK_BOT_TOKEN", "FOUREYES_APPROVAL_SLACK_SIGNING_SECRET",
			"FOUREYES_APPROVAL_SLACK_APP_TOKEN", "FOUREYES_APPROVAL_SIGNING_KEY_FILE", "FOUREYES_APPROVAL_PAGE_SECRET"},
		RoleDeploy: {"FOUREYES_DEPLOY_CREDENTIALS", "FOUREYES_DEPLOY_SIGNING_KEY_FILE"},
	}, func() map[string][]string {
		m := map[string][]string{}
		for _, r := range Roles {
			m[r] = SecretVars(r)
		}
		return m
	}())
	assert.Nil(t, SecretVars("nope"))
}

// TestRefusesForeignSecrets covers every (role, other role's secret) pair,
// generated from SecretVars so a new secret is covered automatically.
func TestRefusesForeignSecrets(t *testing.T) {
	n := 0
	for _, role := range Roles {
		for _, owner := range Roles {
			if owner == role {
				continue
			}
			for _, v := range SecretVars(owner) {
				n++
				t.Run(role+"/"+v, func(t *testing.T) {
					want := fmt.Sprintf("role %s refuses to start: %s (a secret of role %s) is set in its environment", role, v, owner)
					l := env(role, v, "leaked")
					assert.EqualError(t, CheckSecrets(role, l), want)
					_, err := load(role, l)
					assert.EqualError(t, err, want)
				})
			}
		}
	}
	secrets := 0
	for _, r := range Roles {
		secrets += len(SecretVars(r))
	}
	assert.Equal(t, 7+len(Roles), secrets, "six tokens and credentials, the page links' secret, and a signing key per role")
	assert.Equal(t, secrets*(len(Roles)-1), n, "each secret is foreign to every other role")
}

func TestOwnSecretsAndEmptyForeignSecretsAreFine(t *testing.T) {
	for _, role := range Roles {
		t.Run(role, func(t *testing.T) {
			var kv []string
			for _, owner := range Roles {
				for _, v := range SecretVars(owner) {
					val := ""
					if owner == role {
						val = "mine"
					}
					kv = append(kv, v, val)
				}
			}
			if role == RoleApproval { // taking Slack clicks needs the workspace
				kv = append(kv, "FOUREYES_APPROVAL_SLACK_TEAM_ID", "T1")
			}
			l := env(role, kv...)
			assert.NoError(t, CheckSecrets(role, l))
			_, err := load(role, l)
			assert.NoError(t, err)
		})
	}
}

func TestCheckSecretsListsAllOffenders(t *testing.T) {
	l := envconfig.MapLookuper(map[string]string{
		"FOUREYES_BUILD_REGISTRY_TOKEN": "a", "FOUREYES_DEPLOY_CREDENTIALS": "b",
	})
	assert.EqualError(t, CheckSecrets(RoleOrchestrator, l), "role orchestrator refuses to start: "+
		"FOUREYES_BUILD_REGISTRY_TOKEN (a secret of role build), "+
		"FOUREYES_DEPLOY_CREDENTIALS (a secret of role deploy) are set in its environment")
	assert.EqualError(t, CheckSecrets(RoleBuild, l), "role build refuses to start: "+
		"FOUREYES_DEPLOY_CREDENTIALS (a secret of role deploy) is set in its environment")
}

func TestLoadWrongRoleOrType(t *testing.T) {
	ctx := context.Background()
	_, err := Load[Build](ctx, RoleDeploy, env(RoleDeploy))
	assert.EqualError(t, err, "config: role deploy loads config.Deploy, not config.Build")
	_, err = Load[Build](ctx, "builder", env(RoleBuild))
	assert.EqualError(t, err, `config: unknown role "builder" (want one of orchestrator, build, review, approval, deploy)`)
	assert.Error(t, CheckSecrets("builder", env(RoleBuild)))
	_, err = Load[Build](ctx, RoleBuild, nil)
	assert.Error(t, err)
}

func TestPrefix(t *testing.T) {
	assert.Equal(t, "FOUREYES_BUILD_", Prefix(RoleBuild))
	assert.Equal(t, "FOUREYES_ORCHESTRATOR_", Prefix(RoleOrchestrator))
}

func TestIdentity(t *testing.T) {
	tests := []struct {
		role, override, want, err string
	}{
		{role: RoleBuild, want: hostIdentity(t, "build")},
		{role: RoleBuild, override: "foureyes-build", want: "foureyes-build"},
		{role: RoleBuild, override: "foureyes-build@ci-7", want: "foureyes-build@ci-7"},
		{role: RoleDeploy, override: "foureyes-deploy-eu@h", want: "foureyes-deploy-eu@h"},
		{role: RoleBuild, override: "foureyes-deploy@h", err: `identity "foureyes-deploy@h" must start with "foureyes-build"`},
		{role: RoleReview, override: "foureyes-reviewer@h", err: `must start with "foureyes-review"`},
		{role: RoleReview, override: "x-foureyes-review@h", err: `must start with "foureyes-review"`},
		{role: RoleBuild, override: "foureyes-build@h x", err: "must not contain spaces"},
		{role: RoleBuild, override: "foureyes-build@h\n", err: "must not contain spaces"},
		{role: "nope", err: "unknown role"},
	}
	for _, tt := range tests {
		t.Run(tt.role+"/"+tt.override, func(t *testing.T) {
			got, err := Identity(tt.role, tt.override)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// roleVars lists every variable a role's configuration reads, with whether
// it is a secret.
func roleVars(role string) map[string]bool {
	vars := map[string]bool{}
	for _, f := range reflect.VisibleFields(roleTypes[role]) {
		vars[Prefix(role)+envKey(f)] = f.Tag.Get("secret") == "true"
	}
	return vars
}

// TestConfigCannotHoldAnotherRolesSettings: with every other role's
// non-secret variables set (their secrets set refuse the start, see
// TestRefusesForeignSecrets), a role's loaded configuration holds none of
// their values: it reads its own prefix only.
func TestConfigCannotHoldAnotherRolesSettings(t *testing.T) {
	for _, role := range Roles {
		var kv []string
		for _, other := range Roles {
			for v, secret := range roleVars(other) {
				if other != role && !secret {
					kv = append(kv, v, "foreign:"+v)
				}
			}
		}
		cfg, err := load(role, env(role, kv...))
		require.NoError(t, err, role)
		assert.NotContains(t, fmt.Sprintf("%+v", cfg), "foreign:", role)
	}
}

// TestSecretsBelongToOneRole: no role's configuration has a field named like
// another role's secret (a FOUREYES_DEPLOY_SLACK_BOT_TOKEN would be the same
// secret under another name), and the deploy role has nothing that could
// hold a Slack token. SIGNING_KEY_FILE is the exception that proves the
// rule: every role has one, each naming its own key (a policy refuses one
// key listed for two roles). The deploy role reads the policy (its own
// copy, to judge deploys) through POLICY_FILE only, and so does the build
// role (its own copy names each service's repository and build command).
func TestSecretsBelongToOneRole(t *testing.T) {
	for _, owner := range Roles {
		for _, secret := range SecretVars(owner) {
			key := strings.TrimPrefix(secret, Prefix(owner))
			for _, role := range Roles {
				if _, has := roleVars(role)[Prefix(role)+key]; has && role != owner && key != "SIGNING_KEY_FILE" {
					t.Errorf("role %s reads %s%s, a secret of role %s", role, Prefix(role), key, owner)
				}
			}
		}
	}
	for v := range roleVars(RoleDeploy) {
		for _, word := range []string{"SLACK", "TOKEN"} {
			assert.NotContains(t, v, word, "the deploy role must not read %s", v)
		}
		if strings.Contains(v, "POLICY") {
			assert.Equal(t, "FOUREYES_DEPLOY_POLICY_FILE", v)
		}
	}
	for v := range roleVars(RoleBuild) {
		if strings.Contains(v, "POLICY") {
			assert.Equal(t, "FOUREYES_BUILD_POLICY_FILE", v)
		}
	}
}

// Every role signs what it owns: it needs its own key file, and refuses to
// start when told where another role's key is.
func TestSigningKeyFiles(t *testing.T) {
	for _, role := range Roles {
		own := Prefix(role) + "SIGNING_KEY_FILE"
		assert.Contains(t, SecretVars(role), own)
		m := maps.Clone(required[role])
		delete(m, own)
		_, err := load(role, envconfig.MapLookuper(m))
		assert.EqualError(t, err, own+": missing required value")
		for _, other := range Roles {
			if other == role {
				continue
			}
			theirs := Prefix(other) + "SIGNING_KEY_FILE"
			_, err := load(role, env(role, theirs, "/keys/"+other+".key"))
			assert.EqualError(t, err, fmt.Sprintf(
				"role %s refuses to start: %s (a secret of role %s) is set in its environment", role, theirs, other))
		}
	}
}
