package main

import (
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/foureyes/foureyes/workflows"
)

func cmdCancel(e *env, args []string) error {
	fs := newFlags("cancel")
	as := fs.String("as", e.getenv("FOUREYES_IDENTITY"), "identity asking (default $FOUREYES_IDENTITY)")
	reason := fs.String("reason", "", "why")
	pos, err := parse(fs, args)
	if err == nil {
		err = positional(pos, "RELEASE")
	}
	if err != nil {
		return err
	}
	if strings.TrimSpace(*as) == "" {
		return fail(exitUsage, "--as: required (or set FOUREYES_IDENTITY)")
	}
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := interruptible(callTimeout)
	defer cancel()
	req := workflows.CancelRequest{RequestID: uuid.NewString(), Identity: *as, Channel: workflows.ChannelCLI, Reason: *reason}
	if err := c.SignalWorkflow(ctx, pos[0], "", workflows.SignalCancel, req); err != nil {
		return notFoundOrEnded(ctx, c, pos[0], err)
	}
	fmt.Fprintf(e.stdout, "cancel requested for %s as %s (request id %s)\n", pos[0], req.Identity, req.RequestID)
	fmt.Fprintf(e.stdout, "  the release decides whether %s may cancel it: starter status %s\n", req.Identity, pos[0])
	return nil
}
