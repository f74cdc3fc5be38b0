package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// TestWriteComposeKeys: `stack keys` writes what docker-compose.yml mounts,
// keeps the keys on a second run and keeps them out of git.
func TestWriteComposeKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	base := filepath.Join(repoRoot(t), "deployments", "policy.yaml")
	var first map[string][]string
	for run := 0; run < 2; run++ {
		if err := writeComposeKeys(dir, base, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		p, _, err := policy.Load(filepath.Join(dir, "policy.yaml"))
		if err != nil || p.RequireKeys("policy.yaml") != nil {
			t.Fatalf("run %d: policy %v, %v", run, err, p.RequireKeys("policy.yaml"))
		}
		if first == nil {
			first = p.Keys
		}
		for _, role := range attest.Roles {
			if p.Keys[role][0] != first[role][0] {
				t.Errorf("run %d: %s key changed", run, role)
			}
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, ".gitignore")); err != nil || string(data) != "*\n" {
		t.Errorf(".gitignore = %q, %v", data, err)
	}
}
