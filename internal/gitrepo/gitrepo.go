// Package gitrepo makes git repositories with chosen commits: authors,
// committers, Co-authored-by trailers, dates, merges, tags. The demo's
// repository (devstack) and the tests' repositories are made with it. It
// runs Debian's git with the user's and the system's git configuration
// ignored, so that the same commits always get the same ids.
package gitrepo

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Person writes or commits a commit.
type Person struct{ Name, Email string }

// String is "Name <email>", as in a Co-authored-by trailer.
func (p Person) String() string { return p.Name + " <" + p.Email + ">" }

// Commit is one commit to make.
type Commit struct {
	Author    Person
	Committer Person // zero: the author
	// Message is the whole message: subject, body, trailers.
	Message string
	// Files are written (path -> content) and added before committing;
	// none gives an empty commit.
	Files map[string]string
	// Date is the author and committer date; zero: Epoch plus one hour per
	// commit already on the branch, so that ids do not depend on the clock.
	Date time.Time
	// SigningKey (optional) is an OpenSSH private key file: the commit is
	// signed with it in git's SSH format (ssh-keygen -Y sign, namespace
	// git). An Ed25519 signature is deterministic: the id stays fixed.
	SigningKey string
}

// signing is git's arguments to sign a commit with key ("": none).
func signing(key string) (config, flag []string) {
	if key == "" {
		return nil, nil
	}
	return []string{"-c", "gpg.format=ssh", "-c", "user.signingkey=" + key}, []string{"-S"}
}

// Epoch is the date of a repository's first commit when none is given.
var Epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// Repo is a repository with a working tree.
type Repo struct{ Dir string }

// Init makes an empty repository in dir (created if needed) whose first
// branch is branch.
func Init(dir, branch string) (*Repo, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r := &Repo{Dir: dir}
	if _, err := r.Git(nil, "init", "-q", "-b", branch); err != nil {
		return nil, err
	}
	return r, nil
}

// Available reports whether git can be run.
func Available() error {
	_, err := exec.LookPath("git")
	if err != nil {
		return errors.New("git is not installed (Debian: apt-get install git)")
	}
	return nil
}

// Git runs git in the repository with the extra environment env and returns
// its trimmed standard output.
func (r *Repo) Git(env []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = append(baseEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s in %s: %v: %s", strings.Join(args, " "), r.Dir, err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

func baseEnv() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null", "LC_ALL=C", "GIT_TERMINAL_PROMPT=0"}
	if os.Getenv("PATH") == "" {
		env[0] = "PATH=/usr/local/bin:/usr/bin:/bin"
	}
	return env
}

// Commit makes c on the current branch and returns its full SHA.
func (r *Repo) Commit(c Commit) (string, error) {
	if err := r.write(c.Files); err != nil {
		return "", err
	}
	if c.Committer == (Person{}) {
		c.Committer = c.Author
	}
	date, err := r.date(c.Date)
	if err != nil {
		return "", err
	}
	config, sign := signing(c.SigningKey)
	args := append(append(config, "commit", "-q", "--allow-empty", "--no-verify", "--cleanup=verbatim"), sign...)
	if _, err := r.Git(personEnv(c.Author, c.Committer, date), append(args, "-m", c.Message)...); err != nil {
		return "", err
	}
	return r.Git(nil, "rev-parse", "HEAD")
}

// Merge merges branch into the current branch with a merge commit by c's
// author (c.Files are ignored) and returns its SHA.
func (r *Repo) Merge(branch string, c Commit) (string, error) {
	if c.Committer == (Person{}) {
		c.Committer = c.Author
	}
	date, err := r.date(c.Date)
	if err != nil {
		return "", err
	}
	config, sign := signing(c.SigningKey)
	args := append(append(config, "merge", "-q", "--no-ff", "--no-edit"), sign...)
	if _, err := r.Git(personEnv(c.Author, c.Committer, date), append(args, "-m", c.Message, branch)...); err != nil {
		return "", err
	}
	return r.Git(nil, "rev-parse", "HEAD")
}

// Tag tags rev; an annotated tag (tagger: who) when message is set.
func (r *Repo) Tag(name, rev, message string, who Person) error {
	if message == "" {
		_, err := r.Git(nil, "tag", name, rev)
		return err
	}
	_, err := r.Git(personEnv(who, who, Epoch), "tag", "-a", "-m", message, name, rev)
	return err
}

// Checkout switches to branch, creating it at start when start is set.
func (r *Repo) Checkout(branch, start string) error {
	args := []string{"checkout", "-q", branch}
	if start != "" {
		args = []string{"checkout", "-q", "-B", branch, start}
	}
	_, err := r.Git(nil, args...)
	return err
}

// Reset moves the current branch to rev (its later commits are no longer
// on it: what a force push does).
func (r *Repo) Reset(rev string) error {
	_, err := r.Git(nil, "reset", "-q", "--hard", rev)
	return err
}

func (r *Repo) write(files map[string]string) error {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(r.Dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(files[name]), 0o644); err != nil {
			return err
		}
		if _, err := r.Git(nil, "add", "--", name); err != nil {
			return err
		}
	}
	return nil
}

// date is d, or Epoch plus an hour per commit on the branch so far.
func (r *Repo) date(d time.Time) (time.Time, error) {
	if !d.IsZero() {
		return d, nil
	}
	n := 0
	if out, err := r.Git(nil, "rev-list", "--count", "HEAD"); err == nil {
		fmt.Sscan(out, &n)
	}
	return Epoch.Add(time.Duration(n) * time.Hour), nil
}

func personEnv(author, committer Person, date time.Time) []string {
	d := date.UTC().Format(time.RFC3339)
	return []string{"GIT_AUTHOR_NAME=" + author.Name, "GIT_AUTHOR_EMAIL=" + author.Email, "GIT_AUTHOR_DATE=" + d,
		"GIT_COMMITTER_NAME=" + committer.Name, "GIT_COMMITTER_EMAIL=" + committer.Email, "GIT_COMMITTER_DATE=" + d}
}
