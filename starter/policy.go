package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/policy"
)

// checked is what policy check prints with --json.
type checked struct {
	File         string   `json:"file"`
	SHA256       string   `json:"sha256"`
	Humans       int      `json:"humans"`
	Bots         int      `json:"bots"`
	Environments []string `json:"environments"`
}

func cmdPolicyCheck(e *env, args []string) error {
	fs := newFlags("policy check")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 && e.getenv("FOUREYES_POLICY_FILE") != "" {
		pos = []string{e.getenv("FOUREYES_POLICY_FILE")}
	}
	if err := positional(pos, "FILE"); err != nil {
		return err
	}
	p, hash, err := policy.Load(pos[0])
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	out := checked{File: pos[0], SHA256: hash, Humans: len(p.Humans), Bots: len(p.Bots),
		Environments: slices.Sorted(maps.Keys(p.Environments))}
	if *asJSON {
		return printJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "ok: %s sha256 %s: %d humans, %d bots, environments %s\n",
		out.File, out.SHA256, out.Humans, out.Bots, strings.Join(out.Environments, ", "))
	return nil
}

func cmdPolicyExplain(e *env, args []string) error {
	fs := newFlags("policy explain")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(fs, args, "RELEASE")
	if err != nil {
		return err
	}
	var ex api.ExplainResult
	err = withClient(e, func(ctx context.Context, c client.Client) error {
		return query(ctx, c, pos[0], api.QueryExplain, &ex)
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, ex)
	}
	return printExplain(e, ex)
}

func printExplain(e *env, ex api.ExplainResult) error {
	if ex.Gate == "" {
		fmt.Fprintln(e.stdout, "no gate is open")
		return nil
	}
	fmt.Fprintf(e.stdout, "gate %s: quorum %d, signed %d (%s)\n", ex.Gate, ex.Quorum, len(ex.Signed), dash(strings.Join(ex.Signed, ", ")))
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IDENTITY\tKIND\tELIGIBLE\tREASON")
	for _, x := range ex.Identities {
		eligible := "no"
		if x.Eligible {
			eligible = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Identity, x.Kind, eligible, dash(x.Reason))
	}
	return tw.Flush()
}
