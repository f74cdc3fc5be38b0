package faults

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"regexp"

	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/gitrepo"
)

// faultCommits are real commits, all alice's, of the repository every
// service of these suites builds from (made by makeFaultRepo): the build
// role checks them out and reads their author from git.
var faultCommits []string

// faultServices are the services the suites release, each listed in the
// stack's policy with the suites' repository.
func faultServices() []string {
	names := []string{"payments", "ledger", "hostile", "flood", "attack-ref", "rogue-policy", "forged-review",
		"forged-carol", "forged-dave", "forged-cancel", "forged-build"}
	for i := range 100 {
		names = append(names, fmt.Sprintf("svc%02d", i))
	}
	return names
}

// makeFaultRepo makes dir with 32 commits by alice and returns its path.
func makeFaultRepo(dir string) (string, error) {
	if err := gitrepo.Available(); err != nil {
		return "", err
	}
	r, err := gitrepo.Init(dir, "main")
	if err != nil {
		return "", err
	}
	faultCommits = nil
	key, err := devstack.DemoSigningKey("alice") // prod takes only signed commits
	if err != nil {
		return "", err
	}
	for i := range 32 {
		sha, err := r.Commit(gitrepo.Commit{Author: devstack.DemoAlice, Message: fmt.Sprintf("fault suite change %d\n", i),
			Files: map[string]string{"change.txt": fmt.Sprintf("change %d\n", i)}, SigningKey: key})
		if err != nil {
			return "", err
		}
		faultCommits = append(faultCommits, sha)
	}
	return filepath.Abs(dir)
}

// servicesSection is the services: block of deployments/policy.yaml.
var servicesSection = regexp.MustCompile(`(?m)^services:\n(?:  .*\n|    .*\n)*`)

// withServices lists every service of the suites, all from repo, in place
// of the policy's services: block.
func withServices(policy []byte, repo string) ([]byte, error) {
	if !servicesSection.Match(policy) {
		return nil, fmt.Errorf("the policy has no services: section")
	}
	var b bytes.Buffer
	b.WriteString("services:\n")
	for _, name := range faultServices() {
		fmt.Fprintf(&b, "  %s:\n    repository: %q\n", name, repo)
	}
	return servicesSection.ReplaceAllLiteral(policy, b.Bytes()), nil
}

// commitOf is one of the suites' commits, chosen by name.
func commitOf(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	return faultCommits[int(h.Sum32())%len(faultCommits)]
}

// withAttackServices adds the signed-commit attacks' services, each from its
// own repository, to the services: block.
func withAttackServices(policy []byte, repos map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString("services:\n")
	for _, at := range commitAttacks {
		fmt.Fprintf(&b, "  %s:\n    repository: %q\n", at.service, repos[at.service])
	}
	return bytes.Replace(policy, []byte("services:\n"), b.Bytes(), 1)
}
