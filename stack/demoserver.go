package main

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/devstack"
)

// serverChecks shows what the server itself enforces: the release's
// history, event by event, came from the roles that own them (the
// server-attested principals), and credentials that could once move a
// release are now refused at the server.
func (d *demo) serverChecks(ctx context.Context, id string) error {
	config := d.relPath(d.s.local.ServerConfigFile())
	if _, err := d.must(ctx, "", "audit", id, "--principals", config); err != nil {
		return err
	}
	attempts := []struct {
		who, what string
		call      func(context.Context, client.Client) error
	}{
		{devstack.RoleIdentity("build"), "send a decide update (a decision in bob's name)", func(ctx context.Context, c client.Client) error {
			_, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: api.UpdateDecide,
				Args: []any{api.SignedRequest{}}, WaitForStage: client.WorkflowUpdateStageAccepted})
			return err
		}},
		{devstack.IdentityReleaseManager, "terminate the release", func(ctx context.Context, c client.Client) error {
			return c.TerminateWorkflow(ctx, id, "", "demo")
		}},
	}
	for _, a := range attempts {
		if err := d.refusedAtServer(ctx, a.who, a.what, a.call); err != nil {
			return err
		}
	}
	return nil
}

// refusedAtServer makes call as who and requires the server's
// PermissionDenied.
func (d *demo) refusedAtServer(ctx context.Context, who, what string, call func(context.Context, client.Client) error) error {
	c, err := d.s.local.Dial(ctx, who)
	if err != nil {
		return err
	}
	defer c.Close()
	err = call(ctx, c)
	var denied *serviceerror.PermissionDenied
	if !errors.As(err, &denied) {
		return fmt.Errorf("%s tried to %s: want PermissionDenied from the server, got %v", who, what, err)
	}
	logf(d.s.out, "demo: as %s, %s: refused by the server (PermissionDenied: %s)", who, what, denied.Message)
	return nil
}
