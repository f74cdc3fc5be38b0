package activities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/once"
)

// ErrTypeSourceFailed: git could not give the build what it needs (unknown
// commit or ref, unreachable or vanished repository, authentication). Only
// what looks like a passing network fault is retried.
const ErrTypeSourceFailed = "SourceFailed"

// DefaultGitTimeout bounds one git command of a build.
const DefaultGitTimeout = 5 * time.Minute

var (
	shortSHARE = regexp.MustCompile(`^[0-9a-f]{4,39}$`)
	unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
)

func checkRevision(v string) error {
	if !api.ValidRevision(v) {
		return invalid("commit", v, "want a commit SHA (full or short), a tag or a branch")
	}
	return nil
}

// gitRunner runs git as a program: a minimal environment (no prompts, no
// inherited GIT_* variables), its own process group killed on timeout or
// cancellation, stderr kept for the error.
type gitRunner struct {
	timeout time.Duration
}

// gitError is a git command that failed; its message is git's.
type gitError struct {
	args     []string
	stderr   string
	timedOut bool
	err      error
}

func (e *gitError) Error() string {
	what := "git " + strings.Join(e.args, " ")
	if e.timedOut {
		return what + ": timed out"
	}
	if msg := strings.TrimSpace(e.stderr); msg != "" {
		return what + ": " + msg
	}
	return fmt.Sprintf("%s: %v", what, e.err)
}

// exitCode is git's exit status, -1 when it did not exit by itself.
func (e *gitError) exitCode() int {
	var exit *exec.ExitError
	if errors.As(e.err, &exit) {
		return exit.ExitCode()
	}
	return -1
}

func (g gitRunner) env() []string {
	return append(baseEnv(), "GIT_TERMINAL_PROMPT=0", "GIT_SSH_COMMAND=ssh -o BatchMode=yes", "LC_ALL=C")
}

// beforeGit, when set (tests), is called before each git command.
var beforeGit func(args []string)

// run runs git args in dir and returns its standard output.
func (g gitRunner) run(ctx context.Context, dir string, args ...string) (string, error) {
	return g.runInput(ctx, dir, "", args...)
}

// runInput runs git args in dir with stdin as its input.
func (g gitRunner) runInput(ctx context.Context, dir, stdin string, args ...string) (string, error) {
	if beforeGit != nil {
		beforeGit(args)
	}
	timeout := g.timeout
	if timeout <= 0 {
		timeout = DefaultGitTimeout
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	full := append([]string{"-c", "protocol.ext.allow=never", "-c", "core.hooksPath=/dev/null",
		"-c", "log.showSignature=false", "-c", "i18n.logOutputEncoding=UTF-8"}, args...)
	cmd := exec.CommandContext(runCtx, "git", full...)
	cmd.Dir, cmd.Env = dir, g.env()
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: outputTail}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	// Its own group (killed whole on timeout), and killed with the worker:
	// a git left running could hold the mirror's ref locks.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	stop := startHeartbeat(ctx)
	err := cmd.Run()
	stop()
	switch {
	case err == nil:
		return stdout.String(), nil
	case ctx.Err() != nil:
		return "", fmt.Errorf("git %s cancelled: %w", args[0], ctx.Err())
	}
	return stdout.String(), &gitError{args: args, stderr: stderr.String(), timedOut: runCtx.Err() != nil, err: err}
}

// transient lists what git says when the network, not the request, failed.
var transient = []string{"could not resolve host", "connection refused", "connection timed out",
	"connection reset", "early eof", "the remote end hung up unexpectedly", "rpc failed",
	"temporary failure", "operation timed out", "network is unreachable"}

// sourceFailure turns a git failure into the build's error: git's own
// message, retryable only when the network seems at fault.
func sourceFailure(what string, err error) error {
	var ge *gitError
	if !errors.As(err, &ge) {
		return err
	}
	retry := ge.timedOut
	low := strings.ToLower(ge.stderr)
	for _, s := range transient {
		retry = retry || strings.Contains(low, s)
	}
	return temporal.NewApplicationErrorWithOptions(what+": "+ge.Error(), ErrTypeSourceFailed,
		temporal.ApplicationErrorOptions{NonRetryable: !retry})
}

// sourceError is a non-retryable failure of the build's source step.
func sourceError(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeSourceFailed, nil)
}

// mirror is the build role's bare copy of one repository. Everything it
// fetched stays (refs under refs/foureyes/, no automatic gc), so that a
// commit once deployed can always be a change's base. One build at a time
// works in it (an flock next to it).
type mirror struct {
	g      gitRunner
	dir    string // the bare repository
	remote string // what git fetches from: a URL or an absolute path
	lock   *once.Lock
}

// mirrorDir is where the mirror of remote lives: a readable name and a hash.
func mirrorDir(stateDir, remote string) string {
	sum := sha256.Sum256([]byte(remote))
	base := strings.TrimSuffix(filepath.Base(strings.TrimRight(remote, "/")), ".git")
	base = unsafeName.ReplaceAllString(base, "_")
	if base == "" || base == "." || base == ".." {
		base = "repo"
	}
	return filepath.Join(stateDir, "mirrors", base+"-"+hex.EncodeToString(sum[:6])+".git")
}

// openMirror takes the mirror's lock and creates it on first use.
func openMirror(ctx context.Context, g gitRunner, stateDir, remote string) (*mirror, error) {
	m := &mirror{g: g, dir: mirrorDir(stateDir, remote), remote: remote}
	if err := m.acquire(ctx); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(m.dir, "HEAD")); err == nil {
		return m, m.clearStaleLocks()
	}
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		m.release()
		return nil, err
	}
	for _, args := range [][]string{{"init", "--bare", "-q", m.dir},
		{"config", "gc.auto", "0"}, {"config", "core.logAllRefUpdates", "false"}} {
		if _, err := g.run(ctx, m.dir, args...); err != nil {
			m.release()
			return nil, sourceFailure("creating the mirror of "+remote, err)
		}
	}
	return m, nil
}

// clearStaleLocks removes the lock files a git killed with its worker left
// in the mirror (refs, packed-refs, config, shallow): whoever holds the
// mirror's flock is the only one running git in it.
func (m *mirror) clearStaleLocks() error {
	return filepath.WalkDir(m.dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == "objects" || d.Name() == "worktrees"):
			return filepath.SkipDir
		case !d.IsDir() && strings.HasSuffix(d.Name(), ".lock"):
			return os.Remove(path)
		}
		return nil
	})
}

func (m *mirror) acquire(ctx context.Context) error {
	lock, err := (once.Step{Dir: filepath.Dir(m.dir), Kind: filepath.Base(m.dir)}).Acquire(ctx)
	m.lock = lock
	return err
}

func (m *mirror) release() {
	if m.lock != nil {
		m.lock.Close()
		m.lock = nil
	}
}

func (m *mirror) git(ctx context.Context, args ...string) (string, error) {
	return m.g.run(ctx, m.dir, args...)
}

// has reports whether the mirror holds commit sha.
func (m *mirror) has(ctx context.Context, sha string) bool {
	_, err := m.git(ctx, "cat-file", "-e", sha+"^{commit}")
	return err == nil
}

// keep pins a commit with a ref of its own, so it is never collected.
func (m *mirror) keep(ctx context.Context, sha string) error {
	_, err := m.git(ctx, "update-ref", "refs/foureyes/commits/"+sha, sha)
	return err
}

// fetchCommit fetches exactly one commit (and its history) by its full SHA,
// unless the mirror has it; a server that refuses to fetch by SHA gets its
// branches and tags fetched instead.
func (m *mirror) fetchCommit(ctx context.Context, sha string) error {
	if m.has(ctx, sha) {
		return m.keep(ctx, sha)
	}
	_, err := m.git(ctx, "fetch", "--no-tags", "-q", "--", m.remote, "+"+sha+":refs/foureyes/commits/"+sha)
	if err == nil {
		return nil
	}
	if ferr := m.fetchAll(ctx); ferr == nil && m.has(ctx, sha) {
		return m.keep(ctx, sha)
	}
	return err
}

// fetchAll fetches every branch and tag (to resolve a short SHA).
func (m *mirror) fetchAll(ctx context.Context) error {
	_, err := m.git(ctx, "fetch", "--no-tags", "-q", "--", m.remote,
		"+refs/heads/*:refs/foureyes/heads/*", "+refs/tags/*:refs/foureyes/tags/*")
	return err
}

// remoteRefs lists the remote's refs named name: refs/heads/NAME and
// refs/tags/NAME, or NAME itself when it starts with refs/.
func (m *mirror) remoteRefs(ctx context.Context, name string) ([]string, error) {
	want := []string{"refs/tags/" + name, "refs/heads/" + name}
	if strings.HasPrefix(name, "refs/") {
		want = []string{name}
	}
	out, err := m.git(ctx, append([]string{"ls-remote", "--refs", "--", m.remote}, want...)...)
	if err != nil {
		return nil, err
	}
	var found []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if _, ref, ok := strings.Cut(line, "\t"); ok {
			for _, w := range want {
				if ref == w {
					found = append(found, ref)
				}
			}
		}
	}
	return found, nil
}

// resolve turns what a release asked for into a full commit SHA, fetching
// what it needs: a full SHA is fetched as it is; a tag or branch is asked of
// the repository (both at once is ambiguous: name it refs/heads/... or
// refs/tags/...); a short SHA is looked up among the fetched branches and
// tags.
func (m *mirror) resolve(ctx context.Context, rev string) (string, error) {
	if api.ValidCommit(rev) {
		if err := m.fetchCommit(ctx, rev); err != nil {
			return "", sourceFailure(fmt.Sprintf("commit %s is not in %s", rev, m.remote), err)
		}
		return rev, nil
	}
	refs, err := m.remoteRefs(ctx, rev)
	if err != nil {
		return "", sourceFailure("listing the refs of "+m.remote, err)
	}
	switch {
	case len(refs) > 1:
		return "", sourceError("%q is ambiguous in %s: %s; ask for one of them", rev, m.remote, strings.Join(refs, " and "))
	case len(refs) == 1:
		return m.fetchRef(ctx, refs[0])
	case shortSHARE.MatchString(rev):
		return m.resolveShort(ctx, rev)
	}
	return "", sourceError("unknown commit %q: %s has no branch or tag of that name, and it is not a commit id", rev, m.remote)
}

// fetchRef fetches one ref and returns the commit it names (a tag peeled).
func (m *mirror) fetchRef(ctx context.Context, ref string) (string, error) {
	local := "refs/foureyes/" + strings.TrimPrefix(ref, "refs/")
	if _, err := m.git(ctx, "fetch", "--no-tags", "-q", "--", m.remote, "+"+ref+":"+local); err != nil {
		return "", sourceFailure(fmt.Sprintf("fetching %s of %s", ref, m.remote), err)
	}
	out, err := m.git(ctx, "rev-parse", "--verify", "-q", local+"^{commit}")
	if err != nil {
		return "", sourceError("%s of %s names no commit", ref, m.remote)
	}
	sha := strings.TrimSpace(out)
	return sha, m.keep(ctx, sha)
}

func (m *mirror) resolveShort(ctx context.Context, rev string) (string, error) {
	if err := m.fetchAll(ctx); err != nil {
		return "", sourceFailure("fetching the branches and tags of "+m.remote, err)
	}
	out, err := m.git(ctx, "rev-parse", "--verify", "-q", "--end-of-options", rev+"^{commit}")
	if err != nil {
		// rev-parse says "short object ID ... is ambiguous" on stderr.
		var ge *gitError
		if errors.As(err, &ge) && strings.Contains(ge.stderr, "ambiguous") {
			return "", sourceError("short commit id %q is ambiguous in %s: give more digits", rev, m.remote)
		}
		return "", sourceError("unknown commit %q: no commit of %s's branches and tags starts with it", rev, m.remote)
	}
	sha := strings.TrimSpace(out)
	return sha, m.keep(ctx, sha)
}

// isAncestor reports whether a is an ancestor of b (or b itself).
func (m *mirror) isAncestor(ctx context.Context, a, b string) (bool, error) {
	_, err := m.git(ctx, "merge-base", "--is-ancestor", a, b)
	var ge *gitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ge) && ge.exitCode() == 1:
		return false, nil
	}
	return false, err
}

// Log format: one record per commit (\x1e), fields split by \x1f,
// co-authors by \x1d. Emails are the raw ones: a repository's .mailmap is
// written by its authors and must not rename them.
const logFormat = "--format=%H%x1f%ae%x1f%ce%x1f%s%x1f%(trailers:key=Co-authored-by,valueonly,separator=%x1d)%x1e"

// commits lists the commits of a revision range, newest first.
func (m *mirror) commits(ctx context.Context, revs ...string) ([]commitInfo, error) {
	args := append([]string{"log", "--no-color", "--no-mailmap", "--topo-order", logFormat}, revs...)
	out, err := m.git(ctx, append(args, "--")...)
	if err != nil {
		return nil, err
	}
	var list []commitInfo
	for _, rec := range strings.Split(out, "\x1e") {
		rec = strings.TrimLeft(rec, "\n")
		if rec == "" {
			continue
		}
		f := strings.Split(rec, "\x1f")
		if len(f) != 5 {
			return nil, fmt.Errorf("git log: unexpected record %q", rec)
		}
		c := commitInfo{sha: f[0], author: normEmail(f[1]), committer: normEmail(f[2]), subject: cleanSubject(f[3])}
		for _, v := range strings.Split(strings.TrimSpace(f[4]), "\x1d") {
			if v = strings.TrimSpace(v); v != "" {
				c.coAuthors = append(c.coAuthors, trailerEmail(v))
			}
		}
		list = append(list, c)
	}
	return list, nil
}

// commitInfo is one commit as git log tells it.
type commitInfo struct {
	sha, author, committer, subject string
	coAuthors                       []string
}

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// trailerEmail reads "Name <email>"; a value without one is kept whole, so
// that it maps to nobody (and blocks) rather than vanish.
func trailerEmail(v string) string {
	if i, j := strings.LastIndex(v, "<"), strings.LastIndex(v, ">"); i >= 0 && j > i {
		return normEmail(v[i+1 : j])
	}
	return normEmail(v)
}

// cleanSubject keeps a subject printable and short.
func cleanSubject(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	return s
}

// addWorktree checks out sha, detached, in a new folder path.
func (m *mirror) addWorktree(ctx context.Context, path, sha string) error {
	if _, err := m.git(ctx, "worktree", "add", "--detach", "-f", "-q", path, sha); err != nil {
		return sourceFailure("checking out "+sha, err)
	}
	return nil
}

// removeWorktree removes a worktree and what git knows of it.
func (m *mirror) removeWorktree(ctx context.Context, path string) error {
	_, err := m.git(ctx, "worktree", "remove", "--force", "--force", path)
	rmErr := os.RemoveAll(path)
	_, pruneErr := m.git(ctx, "worktree", "prune")
	if err != nil && rmErr == nil && pruneErr == nil {
		return nil // removed by hand, forgotten by prune
	}
	return errors.Join(err, rmErr, pruneErr)
}

// archive writes the commit's tree as a tar (the default build): the same
// commit gives the same bytes.
func (m *mirror) archive(ctx context.Context, sha, path string) error {
	if _, err := m.git(ctx, "archive", "--format=tar", "-o", path, sha); err != nil {
		return sourceFailure("git archive of "+sha, err)
	}
	return nil
}
