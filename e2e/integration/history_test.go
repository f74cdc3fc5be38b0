package integration

import (
	"bytes"
	"context"
	"fmt"
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

// RecordedSuffix ends the names of histories recorded now: -v<N>.json, N
// the workflow's changeRelease version (workflows/versions.go,
// latestRelease). Histories of other versions keep theirs: re-recording
// never overwrites them. Raise it with latestRelease.
const RecordedSuffix = "-v13.json"

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
	// Decoded through the codec server: the replay test's worker holds no
	// payload key, and a recorded history must not either.
	out, err := s.workflowShow(id, devstack.IdentityOperator, devstack.IdentityOperator)
	require.NoError(s.t, err)
	require.NoError(s.t, os.WriteFile(filepath.Join(dir, name), out, 0o644))
	s.t.Logf("recorded the history of %s in %s (%d bytes)", id, filepath.Join(dir, name), len(out))
}

// workflowShow runs `temporal workflow show -o json` as identity, through
// the codec server with reader's API key ("": without the codec server).
func (s *stackT) workflowShow(id, identity, reader string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{"workflow", "show", "-w", id, "-o", "json"}
	creds := s.Local.Credentials()
	if reader != "" {
		if s.Local.Codec == nil {
			// Not ctx: the codec server outlives this call (the stack stops
			// it); under ctx it was killed when the first show returned.
			if _, err := s.Local.StartCodecServer(context.Background()); err != nil {
				return nil, err
			}
		}
		key, err := creds.ReadKey(reader)
		if err != nil {
			return nil, err
		}
		args = append(args, "--codec-endpoint", s.Local.CodecURL(), "--codec-auth", "Bearer "+key)
	}
	cmd := exec.CommandContext(ctx, s.cli, args...)
	env, err := creds.CLIEnv(s.Local.Server.Addr, identity)
	if err != nil {
		return nil, err
	}
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("temporal %v: %w: %s", args[:5], err, stderr.String())
	}
	return out, nil
}
