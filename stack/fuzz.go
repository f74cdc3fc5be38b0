package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// fuzzTargets are the module's fuzz targets (TestFuzzTargetsListed keeps the
// list whole), each with a budget in executions, sized to about 10 s here. A
// crash the fuzzer finds is written to the package's testdata/fuzz/<target>/;
// committed, it runs as a regression test in every plain go test.
//
// Budgets are counts, not durations: with a duration, Go's fuzz coordinator
// can fail the run with a bare "context deadline exceeded" when -fuzztime
// expires mid-execution (golang/go#75804, fixed only in go1.27); CI hit it.
var fuzzTargets = []struct{ pkg, name, budget string }{
	{"./policy", "FuzzParse", "20000x"},
	{"./audit", "FuzzVerify", "100000x"},
	{"./gateway", "FuzzSlackInteraction", "20000x"},
	{"./attest", "FuzzVerify", "60000x"},
	{"./codec", "FuzzCompactRoundTrip", "20000x"},
	{"./codec", "FuzzOpenSealed", "20000x"},
	{"./codec", "FuzzOpenDeflated", "20000x"},
}

// fuzzBudget is each target's own budget, unless FOUREYES_FUZZTIME gives one
// for all (a count like 5000x, or a duration like 1m).
func fuzzBudget(own string) string {
	if v := os.Getenv("FOUREYES_FUZZTIME"); v != "" {
		return v
	}
	return own
}

// fuzzWanted: after the whole suite, or when FOUREYES_FUZZTIME asks; "0"
// turns it off.
func fuzzWanted(args []string) bool {
	v := os.Getenv("FOUREYES_FUZZTIME")
	return v != "0" && (len(args) == 0 || v != "")
}

// runFuzz runs each target for its budget, stopping at the first failure and
// saying whether the fuzzer wrote a failing input.
func runFuzz(root string, env []string, out io.Writer) int {
	for _, t := range fuzzTargets {
		corpus := filepath.Join(root, t.pkg, "testdata", "fuzz", t.name)
		before := dirNames(corpus)
		code := goCmd(root, env, out, "test", "-run=^$", "-fuzz=^"+t.name+"$", "-fuzztime="+fuzzBudget(t.budget), "-fuzzminimizetime=2s", t.pkg)
		if code == 0 {
			continue
		}
		if added := newNames(before, dirNames(corpus)); len(added) > 0 {
			logf(out, "%s found a crash: the input is %s — fix it and commit the input as a regression test",
				t.name, filepath.Join(strings.TrimPrefix(t.pkg, "./"), "testdata", "fuzz", t.name, added[0]))
		} else {
			logf(out, "%s failed without writing a failing input (see go test's output above)", t.name)
		}
		return code
	}
	return 0
}

// dirNames lists a folder's entries; a missing folder has none.
func dirNames(dir string) []string {
	entries, _ := os.ReadDir(dir)
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// newNames is what after holds that before did not.
func newNames(before, after []string) []string {
	var added []string
	for _, n := range after {
		if !slices.Contains(before, n) {
			added = append(added, n)
		}
	}
	return added
}

// printFigures prints what the reliability and security suites reported.
func printFigures(out io.Writer, path string) {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return
	}
	logf(out, "figures of this run:")
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fmt.Fprintf(out, "  %s\n", line)
	}
}
