package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/internal/devstack"
)

// devServer starts foureyes' Temporal server (built by the stack if
// missing) and returns the approval role's TEMPORAL_* settings for it.
func devServer(t *testing.T) []string {
	if testing.Short() {
		t.Skip("needs a Temporal server")
	}
	p, creds, err := devstack.StartScratchServer(context.Background(), repoFile(t, "."), t.TempDir(), io.Discard)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Stop() })
	var kv []string
	for _, setting := range creds.ClientEnv(p.Addr, devstack.RoleIdentity("approval")) {
		k, v, _ := strings.Cut(setting, "=")
		kv = append(kv, k, v)
	}
	return kv
}

// TestApprovalRoleServesAndStopsGracefully runs the approval role against a
// real server: the gateway answers, and a signal ends the process with 0.
func TestApprovalRoleServesAndStopsGracefully(t *testing.T) {
	server := devServer(t)
	port, err := devstack.FreePort()
	require.NoError(t, err)
	listen := "127.0.0.1:" + strconv.Itoa(port)
	k := newTestKeys(t)
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := runWith(ctx, k.env(t, "approval", append(server,
			"FOUREYES_APPROVAL_LISTEN", listen,
			"FOUREYES_APPROVAL_IDENTITY", "foureyes-approval@test",
		)...), "-role", "approval")
		done <- result{code, out, errOut}
	}()

	require.Eventually(t, func() bool {
		resp, err := http.Get(fmt.Sprintf("http://%s/healthz", listen))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond, "gateway never answered")

	cancel() // what SIGINT/SIGTERM do in main
	select {
	case r := <-done:
		assert.Equal(t, 0, r.code, r.stderr)
		for _, want := range []string{"worker started", "identity=foureyes-approval@test",
			"queue=foureyes-approval", "gateway listening", "gateway stopped", "worker stopping"} {
			assert.Contains(t, r.stderr, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("worker did not stop after the signal")
	}
}

func TestTakenGatewayPortExits1(t *testing.T) {
	server := devServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	code, _, stderr := runWith(context.Background(), newTestKeys(t).env(t, "approval", append(server,
		"FOUREYES_APPROVAL_LISTEN", ln.Addr().String(),
	)...), "-role", "approval")
	assert.Equal(t, exitRuntime, code)
	assert.Contains(t, stderr, "worker: role approval: gateway: listen")
	assert.Contains(t, stderr, "address already in use")
}
