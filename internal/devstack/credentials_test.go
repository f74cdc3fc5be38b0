package devstack

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/formats/authzconfig"
)

// TestServerRolesCoverEveryActivity: every activity type the workflow
// schedules is allowed on exactly the queue it is scheduled on; the server
// would deny it anywhere else.
func TestServerRolesCoverEveryActivity(t *testing.T) {
	onQueue := map[string]string{
		api.ActivityLoadPolicy: api.QueueOrchestrator, api.ActivitySeal: api.QueueOrchestrator,
		api.ActivityBuild: api.QueueBuild, api.ActivityReview: api.QueueReview,
		api.ActivityNotify: api.QueueApproval, api.ActivityDeploy: api.QueueDeploy,
		api.ActivityVerify: api.QueueDeploy, api.ActivityRollback: api.QueueDeploy,
		api.ActivityDeployed: api.QueueDeploy,
	}
	allowed := map[string][]string{}
	for _, r := range ServerRoles() {
		for _, a := range r.ActivityTypes {
			allowed[a] = append(allowed[a], r.TaskQueue)
		}
	}
	for activity, queue := range onQueue {
		assert.Equal(t, []string{queue}, allowed[activity], "activity %s", activity)
	}
	assert.Len(t, allowed, len(onQueue), "an activity type the workflow never schedules: %v", allowed)
	assert.Equal(t, []string{"Release"}, ServerRoles()["orchestrator"].WorkflowTypes)
	assert.Equal(t, []string{api.UpdateDecide, api.UpdateCancel}, ServerRoles()["approval"].Updates)
}

// TestServerRolesAreTheDefaults: the config `temporal-server init` writes
// (authzconfig.DefaultRoles, spelled out in the server's module) allows
// exactly what the stack's, written from api's constants, allows.
func TestServerRolesAreTheDefaults(t *testing.T) {
	assert.Equal(t, authzconfig.DefaultRoles(), ServerRoles())
}

// TestCredentialsEnsure: one key per identity (0600, kept across runs), the
// config holds only their SHA-256, and the frontend's certificate is signed
// by the local CA for 127.0.0.1.
func TestCredentialsEnsure(t *testing.T) {
	c := Credentials{Dir: t.TempDir()}
	require.NoError(t, c.Ensure())
	data, err := os.ReadFile(c.ConfigFile())
	require.NoError(t, err)
	cfg, err := authzconfig.Load(c.ConfigFile())
	require.NoError(t, err)
	keys := map[string]string{}
	for _, id := range cfg.Identities {
		key, err := c.ReadKey(id.Name)
		require.NoError(t, err)
		info, err := os.Stat(c.KeyFile(id.Name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), id.Name)
		sum := sha256.Sum256([]byte(key))
		assert.Equal(t, hex.EncodeToString(sum[:]), id.APIKeySHA256, id.Name)
		assert.NotContains(t, string(data), key, "the config holds no key")
		keys[id.Name] = key
	}
	names := slices.Collect(func(yield func(string) bool) {
		for _, id := range cfg.Identities {
			if !yield(id.Name + "=" + id.Role) {
				return
			}
		}
	})
	assert.Equal(t, "foureyes-orchestrator=orchestrator foureyes-build=build foureyes-review=review foureyes-approval=approval "+
		"foureyes-deploy=deploy release-manager=release-manager operator=operator admin=admin", strings.Join(names, " "))

	require.NoError(t, c.Ensure(), "a second run")
	for id, key := range keys {
		again, err := c.ReadKey(id)
		require.NoError(t, err)
		assert.Equal(t, key, again, "%s: the key is kept", id)
	}
	ca, err := readCert(c.CAFile())
	require.NoError(t, err)
	server, err := readCert(c.ServerCertFile())
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	_, err = server.Verify(x509.VerifyOptions{Roots: pool, DNSName: "127.0.0.1"})
	assert.NoError(t, err)
	info, err := os.Stat(filepath.Join(c.Dir, "tls", "ca.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}
