package devstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/foureyes/foureyes/internal/gitrepo"
)

// The people of the demo's commits, as deployments/policy.yaml knows them.
var (
	DemoAlice = gitrepo.Person{Name: "Alice Example", Email: "alice@example.com"}
	DemoBob   = gitrepo.Person{Name: "Bob Example", Email: "bob@example.com"}
	DemoErin  = gitrepo.Person{Name: "Erin Example", Email: "erin@example.com"}
)

// demoRepositories are the commits of each demo repository, oldest first:
// payments' last commit is alice's with erin as co-author (the demo's
// release), after a first one by bob.
var demoRepositories = map[string][]gitrepo.Commit{
	"payments": {
		{Author: DemoBob, Message: "payments: service skeleton\n",
			Files: map[string]string{"README.md": "# payments\n", "main.go": "package main\n\nfunc main() {}\n"}},
		{Author: DemoAlice, Message: "payments: round amounts half to even\n\n" +
			"Banker's rounding for settlement totals.\n\nCo-authored-by: " + DemoErin.String() + "\n",
			Files: map[string]string{"round.go": "package main\n\n// roundHalfEven rounds cents half to even.\nfunc roundHalfEven(c float64) int64 { return int64(c + 0.5) }\n"}},
	},
	"ledger": {
		{Author: DemoAlice, Message: "ledger: first entries\n",
			Files: map[string]string{"README.md": "# ledger\n"}},
	},
}

// MakeDemoRepositories makes dir/payments and dir/ledger, the repositories
// the sample policy names, unless they exist. Their commits have fixed
// authors and dates, so their ids are the same on every machine and every
// run: a deploy recorded by an earlier run still names a commit they have.
func MakeDemoRepositories(dir string) error {
	for name, commits := range demoRepositories {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := gitrepo.Available(); err != nil {
			return fmt.Errorf("the demo repositories need git: %w", err)
		}
		if err := makeRepository(path, commits); err != nil {
			os.RemoveAll(path)
			return fmt.Errorf("demo repository %s: %w", name, err)
		}
	}
	return nil
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

func makeRepository(path string, commits []gitrepo.Commit) error {
	r, err := gitrepo.Init(path, "main")
	if err != nil {
		return err
	}
	for _, c := range commits {
		if _, err := r.Commit(c); err != nil {
			return err
		}
	}
	return nil
}
