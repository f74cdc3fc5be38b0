package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/workflows"
)

// verified is what audit --verify prints with --json.
type verified struct {
	File    string `json:"file"`
	Entries int    `json:"entries"`
	Head    string `json:"head"`
}

func cmdAudit(e *env, args []string) error {
	fs := newFlags("audit")
	export := fs.String("export", "", "write the trail as JSON lines to FILE (- for stdout)")
	verify := fs.String("verify", "", "verify an exported trail")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *verify != "" {
		if len(pos) > 0 || *export != "" {
			return usageError("--verify takes a file, not a release")
		}
		return verifyFile(e, *verify, *asJSON)
	}
	if err := positional(pos, "RELEASE"); err != nil {
		return err
	}
	return showTrail(e, pos[0], *export, *asJSON)
}

// showTrail prints a release's trail as a table or JSON, or exports it.
func showTrail(e *env, id, export string, asJSON bool) error {
	trail, err := fetchTrail(e, id)
	switch {
	case err != nil:
		return err
	case export != "":
		return exportTrail(e, export, trail.Entries)
	case asJSON:
		return printJSON(e.stdout, trail)
	}
	return printTrail(e.stdout, trail.Entries)
}

func fetchTrail(e *env, id string) (workflows.AuditTrail, error) {
	var trail workflows.AuditTrail
	return trail, withClient(e, func(ctx context.Context, c client.Client) error {
		return query(ctx, c, id, workflows.QueryAudit, &trail)
	})
}

func exportTrail(e *env, file string, entries []audit.Entry) error {
	if file == "-" {
		return audit.Export(e.stdout, entries)
	}
	f, err := os.Create(file)
	if err != nil {
		return fail(exitFailure, "--export: %v", err)
	}
	if err := audit.Export(f, entries); err != nil {
		f.Close()
		return fail(exitFailure, "--export: %v", err)
	}
	if err := f.Close(); err != nil {
		return fail(exitFailure, "--export: %v", err)
	}
	fmt.Fprintf(e.stderr, "exported %d entries to %s\n", len(entries), file)
	return nil
}

func printTrail(w io.Writer, entries []audit.Entry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tTYPE\tSTAGE\tACTOR\tEXECUTOR\tOUTCOME\tDETAIL\tHASH")
	for _, x := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Seq, x.Time.UTC().Format(time.RFC3339),
			x.Type, dash(x.Stage), dash(x.Actor), dash(x.Executor), dash(x.Outcome), dash(oneLine(x.Detail, 60)), short(x.Hash))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// verifyFile checks an exported trail: exit 0 with its head, or 3 naming the first bad entry.
func verifyFile(e *env, file string, asJSON bool) error {
	data, err := readInput(file)
	if err != nil {
		return fail(exitUsage, "--verify: %v", err)
	}
	n, err := audit.Verify(bytes.NewReader(data))
	if err != nil {
		return fail(exitRefused, "%s: %v", file, err)
	}
	v := verified{File: file, Entries: n, Head: lastHash(data)}
	if asJSON {
		return printJSON(e.stdout, v)
	}
	fmt.Fprintf(e.stdout, "ok: %d entries, chain head %s\n", v.Entries, v.Head)
	return nil
}

func readInput(file string) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(file)
}

// lastHash is the hash of the last entry of a verified JSON-lines trail.
func lastHash(data []byte) string {
	var head string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for sc.Scan() {
		var x struct {
			Hash string `json:"hash"`
		}
		if json.Unmarshal(sc.Bytes(), &x) == nil && x.Hash != "" {
			head = x.Hash
		}
	}
	return head
}
