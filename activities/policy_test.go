package activities

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadPolicyRefusesBadFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "policy.json")
	writeFile(t, bad, `{"version": 99}`)
	for _, path := range []string{bad, filepath.Join(dir, "missing.yaml")} {
		a := &PolicyActivities{Identity: "foureyes-orchestrator@test", PolicyFile: path}
		_, err := execute[PolicySnapshot](t, a, a.LoadPolicy)
		appErr := requireAppError(t, err, ErrTypeBadPolicy, true)
		assert.Contains(t, appErr.Error(), path)
	}
	_, err := execute[PolicySnapshot](t, &PolicyActivities{PolicyFile: bad}, (&PolicyActivities{PolicyFile: bad}).LoadPolicy)
	assert.ErrorContains(t, err, "version", "the error names the field")
}

// A changed file is parsed again; an unchanged one is not.
func TestLoadPolicyFollowsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	demo, err := os.ReadFile(filepath.Join("..", "deploy", "policy.yaml"))
	require.NoError(t, err)
	writeFile(t, path, string(demo))
	a := &PolicyActivities{Identity: "foureyes-orchestrator@test", PolicyFile: path}
	first, err := execute[PolicySnapshot](t, a, a.LoadPolicy)
	require.NoError(t, err)
	again, err := execute[PolicySnapshot](t, a, a.LoadPolicy)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	writeFile(t, path, string(demo)+"\n# changed\n")
	changed, err := execute[PolicySnapshot](t, a, a.LoadPolicy)
	require.NoError(t, err)
	assert.NotEqual(t, first.Hash, changed.Hash)
	writeFile(t, path, `{"version": 99}`)
	_, err = execute[PolicySnapshot](t, a, a.LoadPolicy)
	assert.ErrorContains(t, err, "version", "a bad file fails even after good ones")
}
