package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// TestStackKeysCommand: `go run ./stack keys` writes what
// docker-compose.yml mounts, keeps the keys on a second run and keeps them
// out of git.
func TestStackKeysCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	base := filepath.Join(repoRoot(t), "deployments", "policy.yaml")
	var first map[string][]string
	for round := 0; round < 2; round++ {
		if code := run([]string{"keys", "--dir", dir, "--policy", base}, &bytes.Buffer{}); code != 0 {
			t.Fatalf("stack keys exited %d", code)
		}
		p, _, err := policy.Load(filepath.Join(dir, "policy.yaml"))
		if err != nil || p.RequireKeys("policy.yaml") != nil {
			t.Fatalf("run %d: policy %v, %v", round, err, p.RequireKeys("policy.yaml"))
		}
		if first == nil {
			first = p.Keys
		}
		for _, role := range attest.Roles {
			if p.Keys[role][0] != first[role][0] {
				t.Errorf("run %d: %s key changed", round, role)
			}
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, ".gitignore")); err != nil || string(data) != "*\n" {
		t.Errorf(".gitignore = %q, %v", data, err)
	}
}
