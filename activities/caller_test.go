package activities

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/api"
)

// failingHistory is a history read that fails with err, as the role's
// client's iterator does when the server (or its database) does not answer.
type failingHistory struct{ err error }

func (h failingHistory) HasNext() bool                          { return true }
func (h failingHistory) Next() (*historypb.HistoryEvent, error) { return nil, h.err }

// flakyCaller reads the caller through the server's reader (serverCaller)
// from a history that fails with err for the first fails reads, then
// answers as testCaller.
func flakyCaller(err error, fails int) (CallerReader, *int) {
	reads := 0
	broken := serverCallerFrom(converter.GetDefaultDataConverter(), func(context.Context, string, string) client.HistoryEventIterator {
		return failingHistory{err}
	})
	return func(ctx context.Context) (Caller, error) {
		reads++
		if reads <= fails {
			return broken(ctx)
		}
		return testCaller(ctx, nil)
	}, &reads
}

func shortCallerPatience(t *testing.T, patience time.Duration) {
	oldP, oldB := callerPatience, callerBackoff
	callerPatience, callerBackoff = patience, time.Millisecond
	t.Cleanup(func() { callerPatience, callerBackoff = oldP, oldB })
}

// transientReads are failures of the history read that say nothing about
// the caller: seen in the trail stress while PostgreSQL or history restarted.
var transientReads = map[string]error{
	"unavailable":         serviceerror.NewUnavailable("connection refused"),
	"deadline":            context.DeadlineExceeded,
	"namespace not found": serviceerror.NewNamespaceNotFound("default"),
	"internal":            serviceerror.NewInternal("persistence: connection reset"),
	"exhausted":           serviceerror.NewResourceExhausted(0, "busy"),
}

// TestDeployRereadsAnUnavailableCaller: a history read that fails while
// the server restarts is read again, and the deploy goes ahead (before,
// the first failed read was a non-retryable DeployRefused and the release
// rolled back or failed).
func TestDeployRereadsAnUnavailableCaller(t *testing.T) {
	shortCallerPatience(t, time.Minute)
	for name, cause := range transientReads {
		t.Run(name, func(t *testing.T) {
			f := newDeployFixture(t)
			read, reads := flakyCaller(cause, 3)
			f.d.Caller = read
			in := f.input(t, "r1", commitA)
			res := f.step(t, deployFn, in)
			assert.True(t, res.OK, res.Output)
			assert.Equal(t, 4, *reads)
			require.NotNil(t, f.current(t))
			assert.Equal(t, "r1", f.current(t).ReleaseID)
		})
	}
}

// TestUnavailableCallerIsRetriedNotRefused: a caller that stays
// unreadable past the attempt's patience fails the attempt retryably
// (CallerUnavailable), for deploy, verify and rollback alike, and nothing
// is deployed; the server retries the activity.
func TestUnavailableCallerIsRetriedNotRefused(t *testing.T) {
	shortCallerPatience(t, 20*time.Millisecond)
	for name, cause := range transientReads {
		for step, fn := range map[string]func(*DeployActivities) any{"deploy": deployFn, "verify": verifyFn, "rollback": rollbackFn} {
			t.Run(name+"/"+step, func(t *testing.T) {
				f := newDeployFixture(t)
				read, reads := flakyCaller(cause, 1<<30)
				f.d.Caller = read
				in := f.input(t, "r1", commitA)
				_, err := execute[api.StepResult](t, f.d, fn(f.d), in)
				appErr := requireAppError(t, err, api.ErrTypeCallerUnavailable, false)
				assert.True(t, strings.HasPrefix(appErr.Error(), step+" not judged yet: "), appErr.Error())
				assert.Contains(t, appErr.Error(), "reading the history of default-test-workflow-id")
				assert.Greater(t, *reads, 1, "read again within the attempt")
				assert.Nil(t, f.current(t), "nothing deployed")
			})
		}
	}
}

// TestCallerRefusalsStayRefusals: a server's answer a retry cannot change
// (the role may not read the run, or asked wrongly), and a history that
// does not hold a release, are refused as before: non-retryable.
func TestCallerRefusalsStayRefusals(t *testing.T) {
	shortCallerPatience(t, time.Minute)
	for name, cause := range map[string]error{
		"permission denied": serviceerror.NewPermissionDenied("deploy role may not read", ""),
		"invalid argument":  serviceerror.NewInvalidArgument("bad run id"),
	} {
		t.Run(name, func(t *testing.T) {
			f := newDeployFixture(t)
			read, reads := flakyCaller(cause, 1<<30)
			f.d.Caller = read
			in := f.input(t, "r1", commitA)
			_, err := execute[api.StepResult](t, f.d, deployFn(f.d), in)
			appErr := requireAppError(t, err, api.ErrTypeDeployRefused, true)
			assert.Contains(t, appErr.Error(), "deploy refused: who called: reading the history of default-test-workflow-id")
			assert.Equal(t, 1, *reads, "not read again")
			assert.Nil(t, f.current(t))
		})
	}
	t.Run("not a release", func(t *testing.T) {
		f := newDeployFixture(t)
		f.editCaller = func(c *Caller) { c.Type = "rogue" }
		_, err := execute[api.StepResult](t, f.d, deployFn(f.d), f.input(t, "r1", commitA))
		assert.Contains(t, requireAppError(t, err, api.ErrTypeDeployRefused, true).Error(), "not a release")
	})
}

func TestUnavailableWrapsOnlyTransientReads(t *testing.T) {
	for name, cause := range transientReads {
		var u *CallerUnavailable
		assert.True(t, errors.As(unavailable(cause), &u), name)
	}
	var u *CallerUnavailable
	assert.False(t, errors.As(unavailable(serviceerror.NewPermissionDenied("no", "")), &u))
}
