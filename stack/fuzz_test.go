package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/foureyes/foureyes/internal/figures"
)

var fuzzFuncRE = regexp.MustCompile(`(?m)^func (Fuzz\w+)\(f \*testing\.F\)`)

// Every fuzz target of the module is run by `stack test`.
func TestFuzzTargetsListed(t *testing.T) {
	root := repoRoot(t)
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "data") && path != root {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		for _, m := range fuzzFuncRE.FindAllStringSubmatch(string(data), -1) {
			rel, _ := filepath.Rel(root, filepath.Dir(path))
			found = append(found, "./"+rel+" "+m[1])
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, f := range fuzzTargets {
		listed = append(listed, f.pkg+" "+f.name)
	}
	slices.Sort(found)
	slices.Sort(listed)
	if !slices.Equal(found, listed) {
		t.Errorf("fuzz targets in the code %v, run by stack test %v", found, listed)
	}
}

func TestFuzzWanted(t *testing.T) {
	for _, tc := range []struct {
		env  string
		args []string
		want bool
	}{{"", nil, true}, {"", []string{"-run", "X"}, false}, {"1m", []string{"-run", "^$"}, true}, {"0", nil, false}} {
		t.Setenv("FOUREYES_FUZZTIME", tc.env)
		if got := fuzzWanted(tc.args); got != tc.want {
			t.Errorf("FOUREYES_FUZZTIME=%q args %v: %v, want %v", tc.env, tc.args, got, tc.want)
		}
	}
}

// TestPrintFigures: every line the suites reported through internal/figures
// is printed, in order, under one heading — the hostile suite's attacks
// figure like the others — and nothing when no suite reported.
func TestPrintFigures(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(figures.Env, filepath.Join(dir, "figures.txt"))
	// Sample lines (not figures of any run) in the suites' formats.
	lines := []string{
		"faults injected 3 (sample figure), survived 3",
		"attacks tried 17 / refused 17 (sample figure: forged decisions 12, forged cancel 1, rogue deploy 1, forged completions 2, rogue LoadPolicy 1); nothing deployed",
		"property cases run 5 (sample figure)",
	}
	for _, l := range lines {
		figures.Report(t, "%s", l)
	}
	var out bytes.Buffer
	printFigures(&out, filepath.Join(dir, "figures.txt"))
	got := out.String()
	if !strings.Contains(got, "figures of this run:") {
		t.Errorf("no heading:\n%s", got)
	}
	last := -1
	for _, l := range lines {
		i := strings.Index(got, "  "+t.Name()+": "+l+"\n")
		if i < 0 || i < last {
			t.Errorf("figure %q missing or out of order:\n%s", l, got)
		}
		last = i
	}
	out.Reset()
	printFigures(&out, filepath.Join(dir, "none.txt"))
	if out.Len() != 0 {
		t.Errorf("no figures reported, printed %q", out.String())
	}
}

// Each target's budget is a count of executions (a duration can fail a clean
// run, golang/go#75804) unless FOUREYES_FUZZTIME overrides it.
func TestFuzzBudgets(t *testing.T) {
	t.Setenv("FOUREYES_FUZZTIME", "")
	countRE := regexp.MustCompile(`^[1-9][0-9]*x$`)
	for _, f := range fuzzTargets {
		if got := fuzzBudget(f.budget); !countRE.MatchString(got) {
			t.Errorf("%s %s: budget %q, want a count like 10000x", f.pkg, f.name, got)
		}
	}
	t.Setenv("FOUREYES_FUZZTIME", "1m")
	if got := fuzzBudget("20000x"); got != "1m" {
		t.Errorf("FOUREYES_FUZZTIME=1m: budget %q", got)
	}
}

// A failed fuzz run names the input the fuzzer wrote, and only a new one.
func TestNewNames(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "seed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	before := dirNames(dir)
	if err := os.WriteFile(filepath.Join(dir, "crash1"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := newNames(before, dirNames(dir)); !slices.Equal(got, []string{"crash1"}) {
		t.Errorf("new inputs %v, want [crash1]", got)
	}
	if got := dirNames(filepath.Join(dir, "missing")); len(got) != 0 {
		t.Errorf("missing folder lists %v", got)
	}
}
