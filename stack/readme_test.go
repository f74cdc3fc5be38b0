package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foureyes/foureyes/internal/readme"
)

// readmeCommand says how CI runs one command of the README's first block:
// the stack's arguments for a `go run ./stack …` command that starts
// something (run by TestReadmeStartCommands), nil for the test command
// itself (what .ci/run runs), an error for anything CI does not run.
func readmeCommand(line, root string) ([]string, error) {
	rest, ok := strings.CutPrefix(line, "go run ./stack")
	if !ok || (rest != "" && !strings.HasPrefix(rest, " ")) {
		return nil, fmt.Errorf("README's first code block: %q is not run by CI (only `go run ./stack …` commands are)", line)
	}
	args := strings.Fields(rest)
	if len(args) > 0 && args[0] == "test" {
		ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
		if err != nil || !strings.Contains(string(ci), "exec "+line) {
			return nil, fmt.Errorf("README's first code block: %q is not what .ci/run runs", line)
		}
		return nil, nil
	}
	if args == nil {
		args = []string{}
	}
	return args, nil
}

// TestReadmeCommandCatchesDrift: a command added to the first block that CI
// does not run is an error, and the block's own commands are not.
func TestReadmeCommandCatchesDrift(t *testing.T) {
	root := repoRoot(t)
	for line, want := range map[string]string{
		"go run ./stack":             "",
		"go run ./stack cluster":     "",
		"go run ./stack test":        "",
		"go run ./stack test -short": "is not what .ci/run runs",
		"starter list":               "is not run by CI",
		"go run ./stacker":           "is not run by CI",
		"docker-compose up --build":  "is not run by CI",
	} {
		_, err := readmeCommand(line, root)
		if (err == nil) != (want == "") || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("readmeCommand(%q) = %v, want error containing %q", line, err, want)
		}
	}
	lines, err := readme.Commands(filepath.Join(root, "README.md"), "")
	if err != nil || len(lines) < 3 {
		t.Fatalf("README's first block: %q, %v", lines, err)
	}
}

// copyableCommands says which test runs each command a reader would copy
// from the production and operators' docs. A command not
// here must be marked in the README as not run here, with the reason.
var copyableCommands = map[string]string{
	"go run ./stack cluster": "TestReadmeStartCommands",
	"go run ./stack keys":    "TestStackKeysCommand",
	"go run ./stack certs":   "TestStackCertsCommand",
	// The operators' queries run against a live stack, read from the README.
	"temporal workflow list": "TestRealStack",
	"starter list":           "TestRealStack",
}

// copyableSections are the sections of the docs whose commands a reader
// copies: each is run by a test that exists, or is marked.
var copyableSections = []struct{ file, section string }{
	{"docs/production.md", "The shape"},
	{"docs/operators.md", "Finding releases"},
}

// TestReadmeCopyableCommands: every command of the production and
// operators' sections is run by a test that exists, or is marked.
func TestReadmeCopyableCommands(t *testing.T) {
	root := repoRoot(t)
	for _, s := range copyableSections {
		path := filepath.Join(root, filepath.FromSlash(s.file))
		cmds, err := readme.Commands(path, s.section)
		if err != nil || len(cmds) == 0 {
			t.Fatalf("%s %s: %q, %v", s.file, s.section, cmds, err)
		}
		for _, c := range cmds {
			if err := copyableRunBy(c, root, path); err != nil {
				t.Errorf("%s %s: %v", s.file, s.section, err)
			}
		}
	}
}

// copyableRunBy finds the test that runs command c, or the doc's mark.
func copyableRunBy(c, root, docPath string) error {
	for prefix, test := range copyableCommands {
		if c == prefix || strings.HasPrefix(c, prefix+" ") {
			return testExists(root, test)
		}
	}
	if readme.Marked(docPath, c) {
		return nil
	}
	return fmt.Errorf("%q is run by no test and not marked \"not run here: why\"", c)
}

// testExists looks for func NAME(t *testing.T) in the module's tests.
func testExists(root, name string) error {
	found := false
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || found || d.IsDir() && (d.Name() == ".tools" || d.Name() == "data" || d.Name() == "temporal-server") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, "_test.go") {
			b, err := os.ReadFile(p)
			found = err == nil && strings.Contains(string(b), "func "+name+"(t *testing.T)")
		}
		return nil
	})
	if err != nil && err != filepath.SkipDir {
		return err
	}
	if !found {
		return fmt.Errorf("no test %s runs it", name)
	}
	return nil
}

// TestReadmeCopyableCatchesDrift: an unmarked command fails, a marked one
// and a listed one pass.
func TestReadmeCopyableCatchesDrift(t *testing.T) {
	root := repoRoot(t)
	path := filepath.Join(root, "docs", "production.md")
	if err := copyableRunBy("docker-compose up --build", root, path); err != nil {
		t.Errorf("the marked command: %v", err)
	}
	if err := copyableRunBy("temporal workflow list --query 'x'", root, path); err != nil {
		t.Errorf("a listed command: %v", err)
	}
	if err := copyableRunBy("kubectl apply -f foureyes.yaml", root, path); err == nil {
		t.Error("an unlisted, unmarked command passed")
	}
	copyableCommands["kubectl apply"] = "TestNoSuchTest"
	defer delete(copyableCommands, "kubectl apply")
	if err := copyableRunBy("kubectl apply -f x", root, path); err == nil {
		t.Error("a command listed with a test that does not exist passed")
	}
}
