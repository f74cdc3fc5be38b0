package devstack

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/foureyes/foureyes/policy"
)

func TestWithoutPromotionRules(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	p, err := WritePolicyWithoutPromotion(root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pol, _, err := policy.Load(p)
	if err != nil {
		t.Fatalf("the stripped policy does not load: %v", err)
	}
	if _, ok := pol.Requirement("prod"); ok {
		t.Error("prod still has a promotion rule")
	}
	full, _ := os.ReadFile(filepath.Join(root, "deployments", "policy.yaml"))
	if got, _ := os.ReadFile(p); len(got) >= len(full) {
		t.Error("nothing was stripped")
	}
}
