package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/workflows"
)

func cmdCancel(e *env, args []string) error {
	fs := newFlags("cancel")
	as := fs.String("as", e.getenv("FOUREYES_IDENTITY"), "identity asking (default $FOUREYES_IDENTITY)")
	reason := fs.String("reason", "", "why")
	pos, err := parseArgs(fs, args, "RELEASE")
	if err != nil {
		return err
	}
	if strings.TrimSpace(*as) == "" {
		return fail(exitUsage, "--as: required (or set FOUREYES_IDENTITY)")
	}
	req := workflows.CancelRequest{RequestID: uuid.NewString(), Identity: *as, Channel: workflows.ChannelCLI, Reason: *reason}
	err = withClient(e, func(ctx context.Context, c client.Client) error {
		if err := c.SignalWorkflow(ctx, pos[0], "", workflows.SignalCancel, req); err != nil {
			return notFoundOrEnded(ctx, c, pos[0], err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "cancel requested for %s as %s (request id %s)\n", pos[0], req.Identity, req.RequestID)
	fmt.Fprintf(e.stdout, "  the release decides whether %s may cancel it: starter status %s\n", req.Identity, pos[0])
	return nil
}
