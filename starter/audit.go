package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/judge"
	"github.com/foureyes/foureyes/policy"
)

// verified is what audit --verify prints with --json: the report's fields
// (Entries and Head are the same in both) follow. With --chain-only there
// is no report, and ChainOnly says so.
type verified struct {
	File      string `json:"file"`
	Entries   int    `json:"entries"`
	Head      string `json:"head"`
	ChainOnly bool   `json:"chain_only,omitempty"` // signatures and the seal were not checked
	Policy    string `json:"policy,omitempty"`     // the file whose keys were used
	*audit.Report
	Rejudged *judge.Rejudged `json:"rejudged,omitempty"` // the judge's replay of its decisions and cancels
}

// auditFlags are the flags of starter audit.
type auditFlags struct {
	export, intoto, verify, policy, principals string
	chainOnly, json                            bool
}

func (f *auditFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.export, "export", "", "write the trail as JSON lines to `FILE` (- for stdout)")
	fs.StringVar(&f.intoto, "intoto", "", "write the trail's signed envelopes as an in-toto bundle (.intoto.jsonl) to `FILE` (- for stdout)")
	fs.StringVar(&f.verify, "verify", "", "verify the exported trail in `FILE`")
	fs.StringVar(&f.policy, "policy", "", "with --verify: the policy `FILE` whose keys check every signature and the seal (default $FOUREYES_POLICY_FILE)")
	fs.BoolVar(&f.chainOnly, "chain-only", false, "with --verify: check the hash chain only (a cut or re-chained export passes)")
	fs.StringVar(&f.principals, "principals", "", "check RELEASE's history: every event by the role that owns it, by the server-attested principals and the server's authorization `FILE` (data/temporal/temporal-server.yaml)")
	fs.BoolVar(&f.json, "json", false, "print JSON")
}

func cmdAudit(e *env, args []string) error {
	var f auditFlags
	fs := newFlags("audit")
	f.define(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if f.verify != "" {
		switch {
		case len(pos) > 0:
			return usageError("--verify takes a file, not a release")
		case f.export != "" || f.intoto != "":
			return usageError("--export and --intoto take a RELEASE, not --verify")
		}
		return verifyFile(e, f)
	}
	if f.policy != "" || f.chainOnly {
		return usageError("--policy and --chain-only go with --verify")
	}
	if err := positional(pos, "RELEASE"); err != nil {
		return err
	}
	if f.principals != "" {
		if f.export != "" || f.intoto != "" {
			return usageError("--principals checks the history; export the trail in another call")
		}
		return checkPrincipals(e, pos[0], f.principals, f.json)
	}
	return showTrail(e, pos[0], f)
}

// showTrail prints a release's trail as a table or JSON, or exports it
// (as JSON lines, as an in-toto bundle, or both).
func showTrail(e *env, id string, f auditFlags) error {
	trail, err := fetchTrail(e, id)
	switch {
	case err != nil:
		return err
	case f.export != "" || f.intoto != "":
		return exportBoth(e, f, trail.Entries)
	case f.json:
		return printJSON(e.stdout, trail)
	}
	return printTrail(e.stdout, trail.Entries)
}

func fetchTrail(e *env, id string) (audit.Trail, error) {
	var trail audit.Trail
	return trail, withClient(e, func(ctx context.Context, c client.Client) error {
		return query(ctx, c, id, api.QueryAudit, &trail)
	})
}

// exportBoth writes the JSON-lines export and/or the in-toto bundle.
func exportBoth(e *env, f auditFlags, entries []audit.Entry) error {
	if f.export != "" {
		err := writeOut(e, "--export", "entries", f.export, func(w io.Writer) (int, error) { return len(entries), audit.Export(w, entries) })
		if err != nil {
			return err
		}
	}
	if f.intoto != "" {
		return writeOut(e, "--intoto", "envelopes", f.intoto, func(w io.Writer) (int, error) { return audit.ExportInToto(w, entries) })
	}
	return nil
}

// writeOut writes to file (stdout for -) and says how many things it wrote.
func writeOut(e *env, flagName, things, file string, write func(io.Writer) (int, error)) error {
	if file == "-" {
		_, err := write(e.stdout)
		return err
	}
	out, err := os.Create(file)
	if err != nil {
		return fail(exitFailure, "%s: %v", flagName, err)
	}
	n, err := write(out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(exitFailure, "%s: %v", flagName, err)
	}
	fmt.Fprintf(e.stderr, "exported %d %s to %s\n", n, things, file)
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

// verifyFile checks an exported trail against the policy's keys: exit 0
// with what it proved, or 3 naming the first entry that fails. Without a
// policy it refuses to run unless --chain-only says a chain check is wanted:
// a bare "ok" on an unsigned check would pass a cut or re-chained export.
func verifyFile(e *env, f auditFlags) error {
	if f.policy == "" && !f.chainOnly {
		f.policy = e.getenv("FOUREYES_POLICY_FILE")
	}
	switch {
	case f.chainOnly && f.policy != "":
		return usageError("--chain-only checks no signatures: it takes no --policy")
	case !f.chainOnly && f.policy == "":
		return usageError("--verify needs --policy FILE (or $FOUREYES_POLICY_FILE) to check signatures and the seal; --chain-only checks the hash chain only")
	}
	data, err := readInput(f.verify)
	if err != nil {
		return fail(exitUsage, "--verify: %v", err)
	}
	if f.chainOnly {
		return verifyChain(e, f, data)
	}
	return verifySigned(e, f, data)
}

// verifyChain checks the hash chain only, and says what that does not prove.
func verifyChain(e *env, f auditFlags, data []byte) error {
	n, err := audit.Verify(bytes.NewReader(data))
	if err != nil {
		return fail(exitRefused, "%s: %v", f.verify, err)
	}
	fmt.Fprintln(e.stderr, "starter: audit: warning: --chain-only: signatures and the seal were NOT checked; a cut or re-chained export also passes (use --policy FILE)")
	v := verified{File: f.verify, Entries: n, Head: lastHash(data), ChainOnly: true}
	if f.json {
		return printJSON(e.stdout, v)
	}
	fmt.Fprintf(e.stdout, "ok: %d entries, chain head %s\n", v.Entries, v.Head)
	return nil
}

// verifySigned checks the chain, every envelope and the seal with the
// policy's keys, then has the judge re-judge every decision and cancel the
// trail records: a trail whose outcomes are not the judge's is refused,
// however well it is sealed.
func verifySigned(e *env, f auditFlags, data []byte) error {
	j, hash, err := loadJudge(f.policy)
	if err != nil {
		return err
	}
	rep, err := audit.VerifySigned(bytes.NewReader(data), j)
	if err != nil {
		return fail(exitRefused, "%s: %v", f.verify, err)
	}
	rj, err := rejudge(j, data)
	if err != nil {
		return fail(exitRefused, "%s: %v", f.verify, err)
	}
	v := verified{File: f.verify, Entries: rep.Entries, Head: rep.Head, Policy: f.policy, Report: &rep, Rejudged: &rj}
	if f.json {
		return printJSON(e.stdout, v)
	}
	printReport(e.stdout, v, hash)
	return nil
}

// rejudge replays the trail's requests with the judge; a mismatch is an
// error naming the first entry the judge disagrees with.
func rejudge(j *judge.Judge, data []byte) (judge.Rejudged, error) {
	entries, err := audit.ReadEntries(bytes.NewReader(data))
	if err != nil {
		return judge.Rejudged{}, err
	}
	rj, err := j.Trail(entries)
	if err != nil {
		return rj, fmt.Errorf("re-judging the trail: %w", err)
	}
	if len(rj.Mismatches) > 0 {
		return rj, fmt.Errorf("the judge disagrees with the trail (%d entries): %s", len(rj.Mismatches), strings.Join(rj.Mismatches, "; "))
	}
	return rj, nil
}

// loadJudge reads the policy and its public keys; a policy that lacks a
// role's key could not have governed a signed release, so it is refused up
// front.
func loadJudge(file string) (*judge.Judge, string, error) {
	p, hash, err := policy.Load(file)
	if err != nil {
		return nil, "", fail(exitUsage, "--policy: %v", err)
	}
	if err := p.RequireKeys(file); err != nil {
		return nil, "", fail(exitUsage, "--policy: %v", err)
	}
	j, err := judge.New(p)
	if err != nil {
		return nil, "", fail(exitUsage, "--policy: %v", err)
	}
	return j, hash, nil
}

// printReport says what was proved: the entries, the envelopes per role,
// the seal, and whether the release ran under the very policy given.
func printReport(w io.Writer, v verified, policyHash string) {
	fmt.Fprintf(w, "ok: %d entries, chain head %s\n", v.Entries, v.Head)
	var roles []string
	total := 0
	for _, r := range attest.Roles {
		if n := v.Envelopes[r]; n > 0 {
			roles, total = append(roles, fmt.Sprintf("%s %d", r, n)), total+n
		}
	}
	fmt.Fprintf(w, "envelopes: %d verified (%s)\n", total, strings.Join(roles, ", "))
	s := v.Seal
	fmt.Fprintf(w, "sealed: by orchestrator key %s (%s), head %s, %d entries, status %s\n", s.KeyID, dash(s.Sealer), s.Head, s.Entries, dash(s.Status))
	fmt.Fprintf(w, "release %s under policy sha256:%s", v.Release, v.PolicySHA256)
	if v.PolicySHA256 != policyHash {
		fmt.Fprintf(w, " (keys from %s, sha256:%s: another version)", v.Policy, policyHash)
	}
	fmt.Fprintln(w)
	switch rj := v.Rejudged; {
	case rj == nil:
	case rj.Scoped:
		fmt.Fprintf(w, "re-judged: %d decisions and cancels replayed by the judge; every recorded outcome agrees\n", rj.Requests)
		if len(rj.Own) > 0 {
			fmt.Fprintf(w, "own signatures checked against the policy's keys: %s\n", strings.Join(rj.Own, "; "))
		}
	default:
		fmt.Fprintln(w, "re-judged: no (no scoped decision: nothing decided, or a trail from before scoped statements)")
	}
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
