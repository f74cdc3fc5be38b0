package api

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"
)

// ErrTypeNotDeployed is the type of the ApplicationError a release that did
// not deploy (rejected, expired, rolled back, failed) ends its workflow with,
// once its trail is sealed: its details are the ReleaseResult. The workflow
// closes Failed, so the Temporal UI's list and `temporal workflow list` show
// it red instead of a green Completed. A cancelled release closes Canceled,
// the ReleaseResult in the CanceledError's details.
const ErrTypeNotDeployed = "ReleaseNotDeployed"

// NotDeployed is how the Release workflow ends a release that did not
// deploy: a cancelled one as a cancelled workflow, any other as a failed
// one (non-retryable), res in the error's details either way.
func NotDeployed(res ReleaseResult) error {
	if res.Status == StatusCancelled {
		return temporal.NewCanceledError(res)
	}
	msg := "release " + res.Status
	if res.Reason != "" {
		msg += ": " + res.Reason
	}
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeNotDeployed, nil, res)
}

// Getter is what ResultOf reads a release's end from: a client.WorkflowRun
// (its Get), or a test's stand-in.
type Getter interface {
	Get(ctx context.Context, valuePtr any) error
}

// ResultOf waits for the release's workflow to close and returns how the
// release ended: the result of a completed workflow (a deployed release, or
// any release recorded before failed ends), or the ReleaseResult a failed or
// cancelled one carries (NotDeployed). A workflow that closed without one
// (terminated, timed out, failed otherwise) returns its error.
func ResultOf(ctx context.Context, run Getter) (ReleaseResult, error) {
	var res ReleaseResult
	err := run.Get(ctx, &res)
	if err == nil {
		return res, nil
	}
	if r, ok := CarriedResult(err); ok {
		return r, nil
	}
	return res, err
}

// CarriedResult is the ReleaseResult a workflow's error carries (NotDeployed).
func CarriedResult(err error) (ReleaseResult, bool) {
	var res ReleaseResult
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == ErrTypeNotDeployed && app.HasDetails() {
		return res, app.Details(&res) == nil && res.Status != ""
	}
	var cancelled *temporal.CanceledError
	if errors.As(err, &cancelled) && cancelled.HasDetails() {
		return res, cancelled.Details(&res) == nil && res.Status != ""
	}
	return res, false
}
