package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/tracing"
)

// callTimeout bounds a single Temporal call (not waits for a result).
const callTimeout = 15 * time.Second

// dial connects to Temporal; tests replace it with a fake.
var dial = dialFromEnv

// dialFromEnv connects with TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_API_KEY and the TEMPORAL_TLS_* files (see config.Temporal).
func dialFromEnv(e *env) (client.Client, error) {
	opts, err := clientOptions(e)
	if err != nil {
		return nil, fail(exitUsage, "%v", err)
	}
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fail(exitFailure, "cannot reach Temporal at %s: %v", opts.HostPort, err)
	}
	return c, nil
}

func clientOptions(e *env) (client.Options, error) {
	lookup := envconfig.LookuperFunc(func(k string) (string, bool) { v := e.getenv(k); return v, v != "" })
	t, err := config.LoadTemporal(context.Background(), lookup)
	if err != nil {
		return client.Options{}, err
	}
	host, _ := os.Hostname()
	warnOnly := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return t.ClientOptions("foureyes-starter@"+host, warnOnly)
}

// startTracing traces this run when the OTEL_* variables or
// FOUREYES_TRACES_FILE say where spans go (service foureyes-starter): the
// release's trace starts with `starter start`. The returned func flushes.
// A bad setting is a warning: tracing never stops a release.
func startTracing(e *env) func() {
	lookup := func(k string) (string, bool) { v := e.getenv(k); return v, v != "" }
	stop, err := tracing.Start(context.Background(), tracing.FromEnv(lookup), "foureyes-starter")
	if err != nil {
		fmt.Fprintf(e.stderr, "starter: warning: tracing off: %v\n", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := stop(ctx); err != nil {
			fmt.Fprintf(e.stderr, "starter: warning: traces not flushed: %v\n", err)
		}
	}
}

func namespace(e *env) string { return e.envOr("TEMPORAL_NAMESPACE", client.DefaultNamespace) }

// uiLink is the Temporal Web UI page of a workflow.
func uiLink(e *env, id string) string {
	ui := e.envOr("FOUREYES_UI_URL", "http://localhost:8233")
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s", trimSlash(ui), url.PathEscape(namespace(e)), url.PathEscape(id))
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// interruptible is a context cancelled by Ctrl-C, with an optional timeout.
func interruptible(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	if timeout <= 0 {
		return ctx, stop
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	return ctx, func() { cancel(); stop() }
}

// temporalError maps a Temporal error about release id to an exit error.
func temporalError(id string, err error) error {
	var nf *serviceerror.NotFound
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return err
	case errors.As(err, &nf):
		return fail(exitNotFound, "release %s not found", id)
	case errors.Is(err, context.DeadlineExceeded):
		return fail(exitFailure, "Temporal did not answer in time: %v", err)
	}
	return fail(exitFailure, "%v", err)
}

// describe returns the execution status of a release.
func describe(ctx context.Context, c client.Client, id string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	resp, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return nil, temporalError(id, err)
	}
	return resp, nil
}

// statusName is the lower-case name of a workflow execution status.
func statusName(s enums.WorkflowExecutionStatus) string {
	switch s {
	case enums.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "continued_as_new"
	case enums.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "timed_out"
	}
	return strings.ToLower(s.String())
}

// withClient dials Temporal and runs fn with a context bounded by callTimeout.
func withClient(e *env, fn func(ctx context.Context, c client.Client) error) error {
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := interruptible(callTimeout)
	defer cancel()
	return fn(ctx, c)
}
