package workflows

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/audit"
)

// envRun reads a test environment's closed workflow as a client reads a run.
type envRun struct {
	env *testsuite.TestWorkflowEnvironment
}

func (r envRun) Get(_ context.Context, v any) error { return r.env.GetWorkflowResult(v) }

// releaseResult is how the release in env ended, read as every caller reads
// it (api.ResultOf): from a completed workflow's result or from the details
// of a failed or cancelled one.
func releaseResult(env *testsuite.TestWorkflowEnvironment, res *api.ReleaseResult) error {
	r, err := api.ResultOf(context.Background(), envRun{env})
	*res = r
	return err
}

// closed is the release's result; it requires the workflow's close status
// to match it (versionFailedEnds): completed when deployed, cancelled when
// cancelled, failed (ErrTypeNotDeployed, not retryable) otherwise.
func (s *ReleaseSuite) closed() api.ReleaseResult {
	var res api.ReleaseResult
	s.Require().NoError(releaseResult(s.env, &res))
	err := s.env.GetWorkflowError()
	var app *temporal.ApplicationError
	var cancelled *temporal.CanceledError
	switch res.Status {
	case api.StatusDeployed:
		s.NoError(err, "a deployed release completes")
	case api.StatusCancelled:
		s.True(errors.As(err, &cancelled), "a cancelled release ends a cancelled workflow, not %v", err)
	default:
		s.Require().True(errors.As(err, &app), "a %s release ends a failed workflow, not %v", res.Status, err)
		s.Equal(api.ErrTypeNotDeployed, app.Type())
		s.True(app.NonRetryable())
		s.Contains(app.Error(), "release "+res.Status)
	}
	return res
}

// A release that did not deploy is still sealed before its workflow fails:
// the last entry of its trail is the seal.
func (s *ReleaseSuite) TestRejectedReleaseIsSealedThenFails() {
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictReject)
	s.Equal(api.StatusRejected, s.run().Status)
	trail := s.trail()
	s.Require().NotEmpty(trail)
	s.Equal(audit.EventSealed, trail[len(trail)-1].Type)
	s.Equal("ok", trail[len(trail)-1].Outcome)
}

// A release recorded before versionFailedEnds completes with its result,
// whatever it is, as it did.
func (s *ReleaseSuite) TestRejectedBeforeFailedEndsCompletes() {
	s.env.OnGetVersion(changeRelease, workflow.DefaultVersion, latestRelease).Return(workflow.Version(versionSignedCommits))
	s.decide(time.Minute, "r1", "review", "bob", api.VerdictReject)
	s.env.ExecuteWorkflow(Release, request())
	s.NoError(s.env.GetWorkflowError())
	var res api.ReleaseResult
	s.NoError(s.env.GetWorkflowResult(&res))
	s.Equal(api.StatusRejected, res.Status)
}
