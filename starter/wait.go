package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
)

func cmdWait(e *env, args []string) error {
	fs := newFlags("wait")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(fs, args, "RELEASE")
	if err != nil {
		return err
	}
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := awaitResult(c.GetWorkflow(context.Background(), pos[0], ""))
	if err != nil {
		return temporalError(pos[0], err)
	}
	if err := printIf(e, *asJSON, res); err != nil {
		return err
	}
	return resultError(e, res, *asJSON)
}

// awaitResult waits (until Ctrl-C) for the release's result: a completed
// workflow's, or the one a release that did not deploy carries in its
// failed or cancelled workflow (api.ResultOf). A release that ended without
// one (terminated, timed out, failed otherwise) is exit 3.
func awaitResult(run client.WorkflowRun) (api.ReleaseResult, error) {
	ctx, cancel := interruptible(0)
	defer cancel()
	res, err := api.ResultOf(ctx, run)
	var we *temporal.WorkflowExecutionError
	if errors.As(err, &we) {
		return res, fail(exitRefused, "release %s ended without a result: %v", run.GetID(), err)
	}
	return res, err
}

// resultError prints the result (unless JSON) and returns exit 3 unless deployed.
func resultError(e *env, res api.ReleaseResult, asJSON bool) error {
	if !asJSON {
		printResult(e.stdout, res)
	}
	if res.Status != api.StatusDeployed {
		return fail(exitRefused, "release ended %s: %s", res.Status, res.Reason)
	}
	return nil
}

func printResult(w io.Writer, res api.ReleaseResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "result\t%s\n", res.Status)
	row(tw, "reason", res.Reason)
	row(tw, "artifact", res.ArtifactRef)
	row(tw, "digest", res.ArtifactDigest)
	row(tw, "policy", res.PolicyHash)
	row(tw, "audit head", res.AuditHead)
	tw.Flush()
}

// row writes a table row unless the value is empty.
func row(w io.Writer, name, value string) {
	if value != "" {
		fmt.Fprintf(w, "%s\t%s\n", name, value)
	}
}
