package once

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// A stopping worker returns a retryable WorkerStopping error and leaves the
// command running: the next attempt waits for it and reads its outcome.
func TestStoppingWorkerLeavesCommandRunning(t *testing.T) {
	s := newStep(t)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivityWithOptions(func(ctx context.Context) error {
		lock, err := s.Acquire(ctx)
		if err != nil {
			return err
		}
		defer lock.Close()
		_, err = s.Run(ctx, lock, `sleep 0.4; echo done`, nil, 0)
		return err
	}, activity.RegisterOptions{Name: "run"})
	stop := make(chan struct{})
	env.SetWorkerStopChannel(stop)
	time.AfterFunc(100*time.Millisecond, func() { close(stop) })
	_, err := env.ExecuteActivity("run")
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "%v", err)
	assert.Equal(t, ErrTypeWorkerStopping, app.Type())
	assert.False(t, app.NonRetryable())
	acquire(t, s)
	assert.Equal(t, Result{RC: 0, Output: "done\n", Resumed: true}, s.Earlier(state(t, s)))
}
