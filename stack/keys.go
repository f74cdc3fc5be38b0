package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/devstack"
)

// runKeys prepares docker-compose's keys: DIR/<role>.key and .pub (kept when
// present) and DIR/policy.yaml, deployments/policy.yaml followed by keys:, and
// the demo repositories it names (DIR/repos).
func runKeys(args []string, out io.Writer) int {
	root, err := devstack.RepoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack keys: %v\n", err)
		return 1
	}
	fs := flag.NewFlagSet("stack keys", flag.ContinueOnError)
	dir := fs.String("dir", filepath.Join(root, "keys"), "key folder (docker-compose.yml mounts ./keys)")
	base := fs.String("policy", filepath.Join(root, "deployments", "policy.yaml"), "policy without keys")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "stack keys: bad arguments %v\n", args)
		return 2
	}
	if err := writeComposeKeys(*dir, *base, out); err != nil {
		fmt.Fprintf(os.Stderr, "stack keys: %v\n", err)
		return 1
	}
	return 0
}

func writeComposeKeys(dir, base string, out io.Writer) error {
	keys, err := devstack.EnsureKeys(dir)
	if err != nil {
		return err
	}
	// Never commit a private key by accident.
	ignore := filepath.Join(dir, ".gitignore")
	if _, err := os.Stat(ignore); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(ignore, []byte("*\n"), 0o644); err != nil {
			return err
		}
	}
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := devstack.WritePolicy(base, policyFile, keys); err != nil {
		return err
	}
	// The repositories the sample policy names, relative to it.
	if err := devstack.MakeDemoRepositories(filepath.Join(dir, "repos")); err != nil {
		return err
	}
	for _, role := range attest.Roles {
		logf(out, "%-12s %s (public %s)", role, filepath.Join(dir, role+".key"), keys[role])
	}
	logf(out, "policy       %s", policyFile)
	return nil
}
