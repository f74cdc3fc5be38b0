package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/formats/authzconfig"
)

// checkPrincipals reads a release's history and checks that every event a
// call caused carries the server-attested principal of the role that owns
// it (audit.CheckPrincipals), with the server's authorization file telling
// which identity holds which role: exit 0, or 3 listing each event that
// does not.
func checkPrincipals(e *env, id, configFile string, asJSON bool) error {
	cfg, err := authzconfig.Load(configFile)
	if err != nil {
		return fail(exitUsage, "--principals: %v", err)
	}
	var events []*historypb.HistoryEvent
	err = withClient(e, func(ctx context.Context, c client.Client) error {
		events, err = history(ctx, c, id)
		return err
	})
	if err != nil {
		return err
	}
	rep := audit.CheckPrincipals(events, cfg)
	if asJSON {
		if err := printJSON(e.stdout, rep); err != nil {
			return err
		}
	} else {
		printPrincipals(e.stdout, id, rep)
	}
	if !rep.OK() {
		return fail(exitRefused, "release %s: %d events not by the role that owns them", id, len(rep.Problems))
	}
	return nil
}

func history(ctx context.Context, c client.Client, id string) ([]*historypb.HistoryEvent, error) {
	var events []*historypb.HistoryEvent
	it := c.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, temporalError(id, err)
		}
		events = append(events, ev)
	}
	return events, nil
}

func printPrincipals(w io.Writer, id string, rep audit.PrincipalReport) {
	fmt.Fprintf(w, "release %s: %s\n", id, rep.Summary())
	if len(rep.Admin) > 0 {
		fmt.Fprintf(w, "admin interventions: %s\n", strings.Join(rep.Admin, "; "))
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "NOT BY ITS OWNER: %s\n", p)
	}
	if rep.OK() {
		fmt.Fprintln(w, "ok: every attested event came from the role that owns it (the start from the release manager, the workflow's from the orchestrator, each activity's from its queue's role)")
	}
}
