package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/devstack"
)

// RecordEnv names a folder: when set, each release of
// TestReleasesThroughTheGateway writes its history there as
// <service>-<env>-<status>[-<label>]RecordedSuffix, the way the replay
// test's histories (workflows/testdata/histories) are recorded:
//
//	FOUREYES_RECORD_HISTORIES=$PWD/workflows/testdata/histories \
//	  go test ./e2e/integration -count=1 -run 'TestReleasesThroughTheGateway|TestPromotionAndEmergency'
const RecordEnv = "FOUREYES_RECORD_HISTORIES"

// RecordedSuffix ends the names of histories recorded now: with the
// workflow's changeRelease version marker at versionScopedStatements
// (scoped statements, the judge). Histories of earlier versions keep theirs
// (*-signed.json before git sources, *-git.json before changeRelease,
// *-lean.json before scoped statements): re-recording never overwrites them.
const RecordedSuffix = "-scoped.json"

// recordHistory writes the ended release's history with the Temporal CLI
// (`temporal workflow show -o json`, as the read-only operator), if RecordEnv
// asks for it.
func (s *stackT) recordHistory(id string, res api.ReleaseResult, label ...string) {
	dir := os.Getenv(RecordEnv)
	if dir == "" {
		return
	}
	st := s.status(id)
	name := strings.Join(append([]string{st.Request.Service, st.Request.Environment,
		strings.ReplaceAll(res.Status, "_", "-")}, label...), "-") + RecordedSuffix
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.cli, "workflow", "show", "-w", id, "-o", "json")
	env, err := s.Local.Credentials().CLIEnv(s.Local.Server.Addr, devstack.IdentityOperator)
	require.NoError(s.t, err)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(s.t, err, "temporal workflow show: %s", stderr.String())
	require.NoError(s.t, os.WriteFile(filepath.Join(dir, name), out, 0o644))
	s.t.Logf("recorded the history of %s in %s (%d bytes)", id, filepath.Join(dir, name), len(out))
}
