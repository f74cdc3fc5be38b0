package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRunShellCancelKillsProcessGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := runShell(ctx, `sleep 30 & sleep 30; wait`, baseEnv(), 0)
	assert.ErrorIs(t, err, context.Canceled)
	var ce *commandError
	assert.False(t, errors.As(err, &ce), "a cancelled activity is not a failed command")
	assert.Less(t, time.Since(start), 4*time.Second)
}

func TestRunShellKeepsOutputTail(t *testing.T) {
	out, err := runShell(context.Background(), `head -c 10000 /dev/zero | tr '\0' x; echo END`, baseEnv(), 0)
	assert.NoError(t, err)
	assert.Len(t, out, outputTail)
	assert.Contains(t, out, "END")
}
