package devstack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPatchedCopy: the copy holds the module's files with the archiver
// provider replaced; a module whose provider is not the one the patch was
// written against is refused, naming the file.
func TestPatchedCopy(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "temporal-server")
	orig, _, err := serverModule(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "server")
	if err := patchedCopy(src, orig, dst); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dst, archiverProvider))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got), "s3store") || !strings.Contains(string(got), "not built in foureyes' Temporal server") {
		t.Errorf("the copy's %s is not the patched one", archiverProvider)
	}
	if _, err := os.Stat(filepath.Join(dst, "go.mod")); err != nil {
		t.Errorf("the copy lacks the module's go.mod: %v", err)
	}

	other := t.TempDir()
	if err := os.MkdirAll(filepath.Join(other, filepath.Dir(archiverProvider)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, archiverProvider), []byte("package provider // another version\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = patchedCopy(src, other, filepath.Join(t.TempDir(), "server"))
	if err == nil || !strings.Contains(err.Error(), "is not the file patches/archiver-provider.go.txt was written against") {
		t.Errorf("another server version: err = %v", err)
	}
}
