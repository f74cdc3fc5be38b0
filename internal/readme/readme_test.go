package readme

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestCommands(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	text := "# x\n```sh\ngo run ./a   # first\n# a comment\n\ngo run ./b && c --q 'x=\"y\"'\n```\n## Ops\n```yaml\nk: v\n```\n```sh\nop list # mine\n```\n## Other\n```sh\nnope\n```\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Commands(path, "")
	if want := []string{"go run ./a", "go run ./b", `c --q 'x="y"'`}; err != nil || !slices.Equal(got, want) {
		t.Errorf("Commands(top) = %q, %v; want %q", got, err, want)
	}
	got, err = Commands(path, "Ops")
	if want := []string{"op list"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("Commands(Ops) = %q, %v; want %q", got, err, want)
	}
	if _, err := Commands(path, "Missing"); err == nil {
		t.Error("a missing section must be an error")
	}
}
