package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/config"
)

// testKeys writes a key pair per signing role and a policy (the demo's)
// listing their public keys, as `go run ./stack` does on first run.
type testKeys struct {
	dir    string
	policy string // keyed policy file
	bare   string // the demo policy, without keys
}

func newTestKeys(t *testing.T) *testKeys {
	k := &testKeys{dir: t.TempDir(), bare: repoFile(t, "deployments/policy.yaml")}
	demo, err := os.ReadFile(k.bare)
	require.NoError(t, err)
	var b strings.Builder
	b.WriteString(strings.TrimRight(string(demo), "\n") + "\nkeys:\n")
	for _, role := range attest.Roles {
		pub, err := attest.WriteKeyPair(k.dir, role)
		require.NoError(t, err)
		fmt.Fprintf(&b, "  %s: [%q]\n", role, pub)
	}
	k.policy = filepath.Join(k.dir, "policy.yaml")
	require.NoError(t, os.WriteFile(k.policy, []byte(b.String()), 0o644))
	return k
}

func (k *testKeys) key(role string) string { return filepath.Join(k.dir, role+".key") }

// env is the minimal environment role starts with, plus kv.
func (k *testKeys) env(t *testing.T, role string, kv ...string) map[string]string {
	p := config.Prefix(role)
	m := map[string]string{p + "SIGNING_KEY_FILE": k.key(role)}
	switch role {
	case config.RoleOrchestrator, config.RoleApproval:
		m[p+"POLICY_FILE"] = k.policy
	case config.RoleDeploy, config.RoleBuild:
		m[p+"POLICY_FILE"], m[p+"STATE_DIR"] = k.policy, t.TempDir()
		m[p+"ARTIFACT_DIR"] = t.TempDir()
	default:
		m[p+"ARTIFACT_DIR"] = t.TempDir()
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func wire(role string, m map[string]string) (*role, error) {
	return roles[role](context.Background(), roleEnv{lookup: envconfig.MapLookuper(m), stdout: os.Stderr})
}

func TestEveryRoleStartsWithItsKey(t *testing.T) {
	k := newTestKeys(t)
	for _, name := range config.Roles {
		r, err := wire(name, k.env(t, name))
		require.NoError(t, err, name)
		assert.NotNil(t, r.register, name)
	}
}

// Without its key, or with a key it cannot read, a role does not start; the
// error names the variable and the file, and never shows a key.
func TestRolesRefuseToStartWithoutTheirKey(t *testing.T) {
	k := newTestKeys(t)
	for _, name := range config.Roles {
		v := config.Prefix(name) + "SIGNING_KEY_FILE"
		m := k.env(t, name)
		delete(m, v)
		_, err := wire(name, m)
		assert.EqualError(t, err, v+": missing required value")

		missing := filepath.Join(t.TempDir(), "nope.key")
		_, err = wire(name, k.env(t, name, v, missing))
		require.Error(t, err)
		assert.Contains(t, err.Error(), v+"="+missing+": ")

		notKey := k.policy // readable, but not a key
		_, err = wire(name, k.env(t, name, v, notKey))
		require.Error(t, err)
		assert.Contains(t, err.Error(), v+"="+notKey+": ")
		assert.Contains(t, err.Error(), "PRIVATE KEY")
	}
}

// A role told where another role's key is refuses to start, like with any
// other role's secret.
func TestRolesRefuseAnotherRolesKey(t *testing.T) {
	k := newTestKeys(t)
	for _, name := range config.Roles {
		for _, other := range config.Roles {
			if other == name {
				continue
			}
			v := config.Prefix(other) + "SIGNING_KEY_FILE"
			_, err := wire(name, k.env(t, name, v, k.key(other)))
			require.Error(t, err)
			assert.Contains(t, err.Error(), v+" (a secret of role "+other+")")
		}
	}
}

// The orchestrator, the build and the deploy role verify with their
// policy's keys: a policy without them stops them at start with the file
// and field.
func TestPolicyWithoutKeysStopsVerifyingRoles(t *testing.T) {
	k := newTestKeys(t)
	for _, name := range []string{config.RoleOrchestrator, config.RoleBuild, config.RoleDeploy} {
		_, err := wire(name, k.env(t, name, config.Prefix(name)+"POLICY_FILE", k.bare))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), k.bare+": keys.orchestrator: is required")
	}
	m := k.env(t, config.RoleDeploy)
	delete(m, "FOUREYES_DEPLOY_POLICY_FILE")
	_, err := wire(config.RoleDeploy, m)
	assert.EqualError(t, err, "FOUREYES_DEPLOY_POLICY_FILE: missing required value")
	m = k.env(t, config.RoleBuild)
	delete(m, "FOUREYES_BUILD_POLICY_FILE")
	_, err = wire(config.RoleBuild, m)
	assert.EqualError(t, err, "FOUREYES_BUILD_POLICY_FILE: missing required value")
}

// registry records the activities a role's worker registers (the embedded
// Registry is nil: other registrations would panic).
type registry struct {
	worker.Registry
	activities []any
}

func (r *registry) RegisterWorkflow(any)   {}
func (r *registry) RegisterActivity(a any) { r.activities = append(r.activities, a) }

// Each signing role's activities hold its signer; the orchestrator's
// include Seal.
func TestRolesSignWithTheirOwnKey(t *testing.T) {
	k := newTestKeys(t)
	for _, name := range []string{config.RoleOrchestrator, config.RoleBuild, config.RoleReview, config.RoleDeploy} {
		r, err := wire(name, k.env(t, name))
		require.NoError(t, err)
		var reg registry
		r.register(&reg)
		require.Len(t, reg.activities, 1, name)
		acts := reflect.ValueOf(reg.activities[0]).Elem()
		signer := acts.FieldByName("Signer").Interface().(*attest.Signer)
		require.NotNil(t, signer, name)
		assert.Equal(t, name, signer.Role)
		want, err := os.ReadFile(filepath.Join(k.dir, name+".pub"))
		require.NoError(t, err)
		assert.Equal(t, strings.TrimSpace(string(want)), signer.PublicKey(), name)
		if name == config.RoleOrchestrator {
			_, ok := reflect.TypeOf(reg.activities[0]).MethodByName(api.ActivitySeal)
			assert.True(t, ok, "the orchestrator registers Seal")
		}
	}
}
