package api

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

// getter stands in for a client.WorkflowRun whose workflow closed with err
// (after a round trip through the failure converter, as a client reads it).
type getter struct{ err error }

func (g getter) Get(_ context.Context, _ any) error {
	if g.err == nil {
		return nil
	}
	fc := temporal.GetDefaultFailureConverter()
	return fmt.Errorf("workflow execution error: %w", fc.FailureToError(fc.ErrorToFailure(g.err)))
}

func TestResultOfAReleaseThatDidNotDeploy(t *testing.T) {
	for _, res := range []ReleaseResult{
		{Status: StatusRejected, Reason: "gate review rejected by bob: no", AuditHead: "h1"},
		{Status: StatusFailed, Reason: "promotion too early"},
		{Status: StatusCancelled, Reason: "cancelled by rita: wrong commit"},
	} {
		err := NotDeployed(res)
		var cancelled *temporal.CanceledError
		require.Equal(t, res.Status == StatusCancelled, errors.As(err, &cancelled), "a cancel ends cancelled, the rest failed")
		got, err := ResultOf(context.Background(), getter{err})
		require.NoError(t, err)
		require.Equal(t, res, got)
	}
}

func TestResultOfAWorkflowWithoutAResult(t *testing.T) {
	for _, err := range []error{
		temporal.NewApplicationError("panic", "OtherType", ReleaseResult{Status: StatusFailed}),
		temporal.NewNonRetryableApplicationError("no details", ErrTypeNotDeployed, nil),
		temporal.NewCanceledError(),
		temporal.NewTimeoutError(0, nil),
	} {
		_, got := ResultOf(context.Background(), getter{err})
		require.Error(t, got, "%v carries no release result", err)
	}
}
