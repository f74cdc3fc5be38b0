package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/foureyes/foureyes/internal/demokeys"
	"github.com/foureyes/foureyes/internal/demotokens"
	"github.com/foureyes/foureyes/internal/devstack"
)

// demoRef is what the demo releases: the branch of data/repos/payments
// whose last commit alice wrote with erin (devstack.MakeDemoRepositories);
// the build role resolves it and reads the authors from git.
const demoRef = "main"

// Exit codes of starter (docs/DESIGN.md).
const exitRefused = 3

// demo drives the real starter binary like a release manager would.
type demo struct {
	s      *stack
	tokens map[string]string // identity -> demo token
}

// runDemo releases payments to prod through both gates; it reports whether
// the release reached deployed.
func (s *stack) runDemo(ctx context.Context) (bool, error) {
	tokens, err := demotokens.Read(s.cfg.root)
	if err != nil {
		return false, err
	}
	d := &demo{s: s, tokens: tokens}
	if err := d.writePeopleKeys(); err != nil {
		return false, err
	}
	defer func(start time.Time) {
		logf(s.out, "demo: took %.1fs", time.Since(start).Seconds())
	}(time.Now())
	logf(s.out, "demo: a release of payments to prod (review by 1, approval by 2, author may not approve)")
	if _, err := d.must(ctx, "", "policy", "check", s.policyArg()); err != nil {
		return false, err
	}
	if err := d.showRepository(ctx); err != nil {
		return false, err
	}
	staging, err := d.stagingFirst(ctx)
	if err != nil {
		return false, err
	}
	if err := d.prodTooEarly(ctx); err != nil {
		return false, err
	}
	if err := d.signerRefused(ctx); err != nil {
		return false, err
	}
	id, err := d.promote(ctx, staging)
	if err != nil {
		return false, err
	}
	if err := d.gates(ctx, id); err != nil {
		return false, err
	}
	return d.finish(ctx, id)
}

// start starts a release to env with no --author: who wrote the change is
// read from git by the build role.
func (d *demo) start(ctx context.Context, env string) (string, error) {
	out, err := d.must(ctx, "", "start", "--service", "payments", "--env", env, "--commit", demoRef,
		d.requesterFlag(env), d.requesterArg(env), "--title", "Demo release", "--json")
	if err != nil {
		return "", err
	}
	return releaseID(out)
}

// demoPeople sign with their own keys in prod (its request_proof and
// gates' proof in deployments/policy.yaml).
var demoPeople = []string{"alice", "bob", "carol", "dave", "rita"}

// writePeopleKeys writes each demo person's SSH key (internal/demokeys)
// under data/people, as each would hold their own.
func (d *demo) writePeopleKeys() error {
	for _, id := range demoPeople {
		if _, err := demokeys.WriteFile(d.peopleDir(), id); err != nil {
			return err
		}
	}
	return nil
}

func (d *demo) peopleDir() string { return filepath.Join(d.s.cfg.dataDir, "people") }

// keyOf is who's key file as the demo's commands name it.
func (d *demo) keyOf(who string) string { return d.relPath(filepath.Join(d.peopleDir(), who)) }

// requesterFlag and requesterArg: prod's requests are rita's own signed
// ones; staging takes the release manager's credential and her name.
func (d *demo) requesterFlag(env string) string {
	if env == "prod" {
		return "--key"
	}
	return "--requester"
}

func (d *demo) requesterArg(env string) string {
	if env == "prod" {
		return d.keyOf("rita")
	}
	return "rita"
}

// demoSoak is prod's verified_for in deployments/policy.yaml.
const demoSoak = 10 * time.Second

// stagingFirst releases payments to staging (bob reviews, carol approves:
// erin co-authored it) and waits until it is deployed and verified.
func (d *demo) stagingFirst(ctx context.Context) (string, error) {
	logf(d.s.out, "demo: payments goes to staging first; prod takes only what staging ran verified for %s", demoSoak)
	id, err := d.start(ctx, "staging")
	if err != nil {
		return "", err
	}
	if err := d.waitStatus(ctx, id, "awaiting_review"); err != nil {
		return "", err
	}
	if _, err := d.must(ctx, "bob", "decide", id, "--gate", "review", "--approve"); err != nil {
		return "", err
	}
	if err := d.waitStatus(ctx, id, "awaiting_approval"); err != nil {
		return "", err
	}
	if _, err := d.must(ctx, "carol", "decide", id, "--gate", "approval", "--approve"); err != nil {
		return "", err
	}
	return id, d.waitStatus(ctx, id, "deployed")
}

// signerRefused releases payments' carol-fix branch to staging: its one
// commit names alice as author and committer, but carol signed it, so carol
// (a staging owner) is refused at its approval gate; rita cancels it.
func (d *demo) signerRefused(ctx context.Context) error {
	logf(d.s.out, "demo: branch %s: a commit under alice's name that carol signed; carol may not approve it", devstack.DemoBranch)
	out, err := d.must(ctx, "", "start", "--service", "payments", "--env", "staging", "--commit", devstack.DemoBranch,
		"--requester", "rita", "--title", "Carol's fix, under alice's name", "--json")
	if err != nil {
		return err
	}
	id, err := releaseID(out)
	if err != nil {
		return err
	}
	if err := d.waitStatus(ctx, id, "awaiting_review"); err != nil {
		return err
	}
	if _, err := d.must(ctx, "bob", "decide", id, "--gate", "review", "--approve"); err != nil {
		return err
	}
	if err := d.waitStatus(ctx, id, "awaiting_approval"); err != nil {
		return err
	}
	out, code, err := d.starter(ctx, "carol", "decide", id, "--gate", "approval", "--approve")
	if err != nil {
		return err
	}
	if code != exitRefused || !strings.Contains(string(out), "you signed a commit of this change") {
		return fmt.Errorf("carol approving the commit she signed under alice's name: want refused (exit %d, \"you signed a commit of this change\"), got exit %d:\n%s", exitRefused, code, out)
	}
	logf(d.s.out, "demo: carol was refused, as she signed a commit of this change (whatever its author field says)")
	if _, err := d.must(ctx, "rita", "cancel", id, "--reason", "demo: carol's fix waits for another approver"); err != nil {
		return err
	}
	return d.waitStatus(ctx, id, "cancelled")
}

// prodTooEarly starts prod at once: refused, staging has not run the
// artifact verified long enough yet.
func (d *demo) prodTooEarly(ctx context.Context) error {
	id, err := d.start(ctx, "prod")
	if err != nil {
		return err
	}
	if err := d.waitStatus(ctx, id, "failed"); err != nil {
		return err
	}
	out, err := d.must(ctx, "", "status", id, "--json")
	if err != nil {
		return err
	}
	if !strings.Contains(string(out), "verified in staging for") && !strings.Contains(string(out), "promotion rule") {
		return fmt.Errorf("prod start before the soak: want refused by the promotion rule, got:\n%s", out)
	}
	logf(d.s.out, "demo: the prod start was refused by the promotion rule (staging has not run it verified for %s yet)", demoSoak)
	return nil
}

// promote waits out the soak and promotes the staging release to prod
// (same artifact, no rebuild).
func (d *demo) promote(ctx context.Context, staging string) (string, error) {
	logf(d.s.out, "demo: waiting out the soak (%s), then promoting release %s to prod", demoSoak, staging)
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case <-time.After(demoSoak + time.Second):
	}
	out, err := d.must(ctx, "", "promote", staging, "--to", "prod", "--key", d.keyOf("rita"), "--json")
	if err != nil {
		return "", err
	}
	return releaseID(out)
}

// showRepository prints the demo repository's history: who wrote what.
func (d *demo) showRepository(ctx context.Context) error {
	repo := filepath.Join(d.s.local.RepoDir(), "payments")
	args := []string{"-C", d.relPath(repo), "log", "--format=%h %s  (author: %an <%ae>)%n%(trailers:key=Co-authored-by,separator=%x2C )"}
	fmt.Fprintf(d.s.out, "\n$ git %s   # the repository data/policy.yaml names for payments\n", shellJoin(args))
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir, cmd.Env = d.s.cfg.root, devstack.BaseEnv()
	out, err := cmd.CombinedOutput()
	if text := strings.TrimRight(string(out), "\n"); text != "" {
		fmt.Fprintf(d.s.out, "  %s\n", strings.ReplaceAll(text, "\n", "\n  "))
	}
	return err
}

// gates signs the review gate as bob, shows alice (the author) refused at
// the approval gate, then carol and dave approve.
func (d *demo) gates(ctx context.Context, id string) error {
	if err := d.reviewThenAuthorRefused(ctx, id); err != nil {
		return err
	}
	return d.passkeyApprovals(ctx, id, "carol", "dave")
}

// reviewThenAuthorRefused signs the review gate as bob and shows alice (the
// author) refused at the approval gate, which stays open.
func (d *demo) reviewThenAuthorRefused(ctx context.Context, id string) error {
	if err := d.waitStatus(ctx, id, "awaiting_review"); err != nil {
		return err
	}
	if _, err := d.must(ctx, "bob", "decide", id, "--gate", "review", "--approve", "--key", d.keyOf("bob")); err != nil {
		return err
	}
	if err := d.waitStatus(ctx, id, "awaiting_approval"); err != nil {
		return err
	}
	out, code, err := d.starter(ctx, "alice", "decide", id, "--gate", "approval", "--approve", "--key", d.keyOf("alice"))
	if err != nil {
		return err
	}
	if code != exitRefused {
		return fmt.Errorf("alice (the author) approving her own release: want refused (exit %d), got exit %d:\n%s", exitRefused, code, out)
	}
	logf(d.s.out, "demo: alice was refused, as she authored the change (found in git: nobody declared her)")
	return nil
}

func (d *demo) finish(ctx context.Context, id string) (bool, error) {
	if _, _, err := d.starter(ctx, "", "wait", id); err != nil {
		return false, err
	}
	if _, err := d.must(ctx, "", "status", id); err != nil {
		return false, err
	}
	if _, err := d.must(ctx, "", "audit", id); err != nil {
		return false, err
	}
	if err := d.exportAndVerify(ctx, id); err != nil {
		return false, err
	}
	if err := d.serverChecks(ctx, id); err != nil {
		return false, err
	}
	if err := d.showArtifacts(); err != nil {
		return false, err
	}
	status, err := d.status(ctx, id)
	if err != nil {
		return false, err
	}
	logf(d.s.out, "demo: release %s ended %s", id, status)
	if err := d.showMetrics(ctx); err != nil {
		return false, err
	}
	if d.s.cfg.uiPort != 0 {
		logf(d.s.out, "demo: http://localhost:%d/namespaces/default/workflows/%s", d.s.cfg.uiPort, id)
	}
	return status == "deployed", nil
}

// exportAndVerify exports the trail (JSON lines, and its envelopes as an
// in-toto bundle) and verifies it as an auditor would, with the policy's
// keys: every signature and the seal. A copy cut before its seal is refused.
func (d *demo) exportAndVerify(ctx context.Context, id string) error {
	base := filepath.Join(d.s.cfg.dataDir, "audit-"+strings.ReplaceAll(id, "/", "_"))
	export, bundle := d.relPath(base+".jsonl"), d.relPath(base+".intoto.jsonl")
	if _, err := d.must(ctx, "", "audit", id, "--export", export, "--intoto", bundle); err != nil {
		return err
	}
	if _, err := d.must(ctx, "", "audit", "--verify", export, "--policy", d.s.policyArg()); err != nil {
		return err
	}
	cut := d.relPath(base + ".cut.jsonl")
	if err := cutLastLine(base+".jsonl", base+".cut.jsonl"); err != nil {
		return err
	}
	fmt.Fprintf(d.s.out, "\n$ head -n -1 %s > %s   # the same trail without its last entry, the seal\n", export, cut)
	out, code, err := d.starter(ctx, "", "audit", "--verify", cut, "--policy", d.s.policyArg())
	if err != nil {
		return err
	}
	if code != exitRefused {
		return fmt.Errorf("a cut export: want refused (exit %d), got exit %d:\n%s", exitRefused, code, out)
	}
	logf(d.s.out, "demo: the cut export was refused")
	return nil
}

// showArtifacts lists the artifact store: every artifact named by its
// SHA-256, read-only.
func (d *demo) showArtifacts() error {
	dir := filepath.Join(d.s.cfg.dataDir, "artifacts", "sha256")
	fmt.Fprintf(d.s.out, "\n$ ls -l %s   # artifacts by digest, written once, read-only\n", d.relPath(dir))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(d.s.out, "  %s %6d %s\n", info.Mode(), info.Size(), e.Name())
	}
	return nil
}

// cutLastLine copies a JSON-lines file without its last line.
func cutLastLine(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(strings.TrimRight(string(data), "\n"), "\n")
	return os.WriteFile(to, []byte(strings.Join(lines[:len(lines)-1], "")), 0o644)
}

// terminal release states: waiting for anything else after one is futile.
var terminal = map[string]bool{"deployed": true, "rejected": true, "expired": true,
	"cancelled": true, "rolled_back": true, "failed": true}

// waitStatus polls `starter status ID --json` until want (2 minutes).
func (d *demo) waitStatus(ctx context.Context, id, want string) error {
	fmt.Fprintf(d.s.out, "\n$ starter status %s --json   # polled until status is %s\n", id, want)
	start := time.Now()
	for deadline := start.Add(2 * time.Minute); ; {
		status, err := d.status(ctx, id)
		if err == nil && status == want {
			fmt.Fprintf(d.s.out, "  status: %s (after %.1fs)\n", status, time.Since(start).Seconds())
			return nil
		}
		if err == nil && terminal[status] {
			return fmt.Errorf("release %s ended %s while waiting for %s", id, status, want)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("release %s not %s after 2m (last status %q, error %v)", id, want, status, err)
		}
		if err := d.s.local.Check(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// status runs `starter status ID --json` quietly and returns its "status".
func (d *demo) status(ctx context.Context, id string) (string, error) {
	out, code, err := d.run(ctx, "", "status", id, "--json")
	if err != nil || code != 0 {
		return "", fmt.Errorf("starter status: exit %d %v: %s", code, err, out)
	}
	var st struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return "", fmt.Errorf("starter status --json: %v: %s", err, out)
	}
	return st.Status, nil
}

// must runs starter (printed as a transcript) and requires exit 0.
func (d *demo) must(ctx context.Context, as string, args ...string) ([]byte, error) {
	out, code, err := d.starter(ctx, as, args...)
	if err == nil && code != 0 {
		err = fmt.Errorf("starter %s: exit code %d", strings.Join(args, " "), code)
	}
	return out, err
}

// starter prints the command, runs it (as the named demo user's token if
// as is set) and prints its output indented.
func (d *demo) starter(ctx context.Context, as string, args ...string) ([]byte, int, error) {
	prefix := ""
	if as != "" {
		prefix = "FOUREYES_TOKEN=$" + demotokens.Var(as) + " "
	}
	fmt.Fprintf(d.s.out, "\n$ %sstarter %s\n", prefix, shellJoin(args))
	out, code, err := d.run(ctx, as, args...)
	if text := strings.TrimRight(string(out), "\n"); text != "" {
		fmt.Fprintf(d.s.out, "  %s\n", strings.ReplaceAll(text, "\n", "\n  "))
	}
	if code != 0 {
		fmt.Fprintf(d.s.out, "  (exit code %d)\n", code)
	}
	return out, code, err
}

// policyArg is the stack's policy (deployments/policy.yaml + keys) as the demo
// names it: relative to the repository root starter runs in, if inside it.
func (s *stack) policyArg() string {
	rel, err := filepath.Rel(s.cfg.root, s.local.PolicyFile())
	if err != nil || strings.HasPrefix(rel, "..") {
		return s.local.PolicyFile()
	}
	return rel
}

// run executes starter with a minimal environment; err only when it could
// not run at all.
func (d *demo) run(ctx context.Context, as string, args ...string) ([]byte, int, error) {
	// The release manager's credential: the starter starts and reads releases;
	// decisions go through the gateway with each person's token.
	env := append(devstack.BaseEnv(), d.s.local.ClientEnv(devstack.IdentityReleaseManager)...)
	env = append(env, "FOUREYES_GATEWAY_URL="+d.s.local.GatewayURL(),
		"FOUREYES_POLICY_FILE="+d.s.local.PolicyFile())
	env = append(env, d.s.local.TraceEnv("starter")...)
	if d.s.cfg.uiPort != 0 {
		env = append(env, "FOUREYES_UI_URL=http://localhost:"+strconv.Itoa(d.s.cfg.uiPort))
	}
	if as != "" {
		tok, err := demotokens.Get(d.tokens, as)
		if err != nil {
			return nil, 0, err
		}
		env = append(env, "FOUREYES_TOKEN="+tok)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(d.s.bin, "starter"), args...)
	cmd.Dir, cmd.Env = d.s.cfg.root, env
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && ctx.Err() == nil {
		return buf.Bytes(), exit.ExitCode(), nil
	}
	return buf.Bytes(), 0, err
}

// relPath shows p relative to the repository root when it lies inside.
func (d *demo) relPath(p string) string {
	if r, err := filepath.Rel(d.s.cfg.root, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// releaseID finds the release id in `starter start --json` output.
func releaseID(out []byte) (string, error) {
	var m map[string]any
	if i := bytes.Index(out, []byte("\n{")); i >= 0 { // after what a signed start said it signs
		out = out[i+1:]
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &m); err != nil {
		return "", fmt.Errorf("starter start --json: %v: %s", err, out)
	}
	for _, k := range []string{"release_id", "id", "workflow_id"} {
		if s, ok := m[k].(string); ok && s != "" {
			return s, nil
		}
	}
	return "", fmt.Errorf("starter start --json: no release_id in %s", out)
}

// shellJoin quotes arguments that need it, for display.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'$&|;<>*?()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
