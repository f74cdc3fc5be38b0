package activities

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
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
