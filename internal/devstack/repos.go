package devstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/foureyes/foureyes/internal/demokeys"
	"github.com/foureyes/foureyes/internal/gitrepo"
)

// The people of the demo's commits, as deployments/policy.yaml knows them.
var (
	DemoAlice = gitrepo.Person{Name: "Alice Example", Email: "alice@example.com"}
	DemoBob   = gitrepo.Person{Name: "Bob Example", Email: "bob@example.com"}
	DemoErin  = gitrepo.Person{Name: "Erin Example", Email: "erin@example.com"}
)

// demoCommit is one commit of a demo repository and the demo identity whose
// key signs it (internal/demokeys; the sample policy lists the keys).
type demoCommit struct {
	gitrepo.Commit
	SignedBy string
}

// demoRepositories are the commits of each demo repository's main branch,
// oldest first: payments' last commit is alice's with erin as co-author
// (the demo's release), after bob's skeleton (the service's baseline in the
// sample policy). Every commit is signed by its author.
var demoRepositories = map[string][]demoCommit{
	"payments": {
		{SignedBy: "bob", Commit: gitrepo.Commit{Author: DemoBob, Message: "payments: service skeleton\n",
			Files: map[string]string{"README.md": "# payments\n", "main.go": "package main\n\nfunc main() {}\n"}}},
		{SignedBy: "alice", Commit: gitrepo.Commit{Author: DemoAlice, Message: "payments: round amounts half to even\n\n" +
			"Banker's rounding for settlement totals.\n\nCo-authored-by: " + DemoErin.String() + "\n",
			Files: map[string]string{"round.go": "package main\n\n// roundHalfEven rounds cents half to even.\nfunc roundHalfEven(c float64) int64 { return int64(c + 0.5) }\n"}}},
	},
	"ledger": {
		{SignedBy: "alice", Commit: gitrepo.Commit{Author: DemoAlice, Message: "ledger: first entries\n",
			Files: map[string]string{"README.md": "# ledger\n"}}},
	},
}

// DemoBranch is payments' branch whose one commit carol signed under
// alice's name (author and committer alice): the demo shows carol refused
// at its approval gate, as the signer.
const DemoBranch = "carol-fix"

var demoBranches = map[string]map[string][]demoCommit{
	"payments": {DemoBranch: {
		{SignedBy: "carol", Commit: gitrepo.Commit{Author: DemoAlice, Message: "payments: round negative amounts too\n",
			Files: map[string]string{"round.go": "package main\n\n// roundHalfEven rounds cents half to even, negative ones too.\nfunc roundHalfEven(c float64) int64 { return int64(c + 0.5) }\n"}}},
	}},
}

// DemoBaseline is the commit the sample policy names as payments'
// baseline: bob's skeleton, reviewed when the service was onboarded.
const DemoBaseline = "d3c7fb6be49e869c463776d2e24cd774ee00e52d"

// MakeDemoRepositories makes dir/payments and dir/ledger, the repositories
// the sample policy names, unless they exist. Their commits have fixed
// authors and dates and are signed with the demo identities' keys
// (Ed25519: deterministic), so their ids are the same on every machine and
// every run: a deploy recorded by an earlier run still names a commit they
// have. A repository made before the demo's commits were signed is moved
// aside (NAME.before-signed) and made anew.
func MakeDemoRepositories(dir string) error {
	for name := range demoRepositories {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			if signed, err := demoRepositorySigned(path, name); err != nil || signed {
				return err
			}
			if err := os.Rename(path, path+".before-signed"); err != nil {
				return err
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := gitrepo.Available(); err != nil {
			return fmt.Errorf("the demo repositories need git: %w", err)
		}
		if err := makeRepository(path, name); err != nil {
			os.RemoveAll(path)
			return fmt.Errorf("demo repository %s: %w", name, err)
		}
	}
	return nil
}

// demoRepositorySigned reports whether the repository at path has the
// signed demo commits (its first commit carries a signature).
func demoRepositorySigned(path, name string) (bool, error) {
	r := &gitrepo.Repo{Dir: path}
	out, err := r.Git(nil, "rev-list", "--max-parents=0", "main")
	if err != nil {
		return true, nil // not ours to judge: leave it
	}
	obj, err := r.Git(nil, "cat-file", "commit", strings.Fields(out)[0])
	return err == nil && strings.Contains(obj, "\ngpgsig "), nil
}

// RetirePreGitRecords moves aside (NAME.json.before-git) each deploy record
// of a demo service, in deployments/<environment>/, whose commit the demo
// repository does not have: written by a stack from before releases were
// built from git (their commits were made up), it would make every later
// release of the service fail closed, the change since it unreadable.
func RetirePreGitRecords(deployments, repos string) error {
	envs, err := os.ReadDir(deployments)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, env := range envs {
		for name := range demoRepositories {
			for _, file := range []string{name + ".json", name + ".json.prev"} {
				path := filepath.Join(deployments, env.Name(), file)
				if err := retireIfUnknown(path, &gitrepo.Repo{Dir: filepath.Join(repos, name)}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func retireIfUnknown(path string, repo *gitrepo.Repo) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var rec struct {
		Commit string `json:"commit"`
	}
	if json.Unmarshal(data, &rec) != nil || rec.Commit == "" {
		return nil
	}
	if _, err := repo.Git(nil, "cat-file", "-e", rec.Commit+"^{commit}"); err == nil {
		return nil
	}
	return os.Rename(path, path+".before-git")
}

func makeRepository(path, name string) error {
	keys, err := os.MkdirTemp("", "foureyes-demo-keys-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(keys)
	r, err := gitrepo.Init(path, "main")
	if err != nil {
		return err
	}
	if err := commitAll(r, keys, demoRepositories[name]); err != nil {
		return err
	}
	for branch, commits := range demoBranches[name] {
		if err := r.Checkout(branch, "main"); err != nil {
			return err
		}
		if err := commitAll(r, keys, commits); err != nil {
			return err
		}
		if err := r.Checkout("main", ""); err != nil {
			return err
		}
	}
	return nil
}

// commitAll makes the commits, each signed with its signer's demo key.
func commitAll(r *gitrepo.Repo, keys string, commits []demoCommit) error {
	for _, c := range commits {
		key, err := demokeys.WriteFile(keys, c.SignedBy)
		if err != nil {
			return err
		}
		c.Commit.SigningKey = key
		if _, err := r.Commit(c.Commit); err != nil {
			return err
		}
	}
	return nil
}

var demoKeyDir struct {
	sync.Once
	dir string
	err error
}

// DemoSigningKey is a private key file of identity's demo key, for tests
// that commit to the demo repositories signed (prod takes only signed
// commits in the sample policy).
func DemoSigningKey(identity string) (string, error) {
	demoKeyDir.Do(func() { demoKeyDir.dir, demoKeyDir.err = os.MkdirTemp("", "foureyes-demo-keys-") })
	if demoKeyDir.err != nil {
		return "", demoKeyDir.err
	}
	return demokeys.WriteFile(demoKeyDir.dir, identity)
}
