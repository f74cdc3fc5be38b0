package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
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
