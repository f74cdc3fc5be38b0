package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// fuzzTargets are the module's fuzz targets (TestFuzzTargetsListed keeps the
// list whole). A crash the fuzzer finds is written to the package's
// testdata/fuzz/<target>/; committed, it runs as a regression test in every
// plain go test.
var fuzzTargets = []struct{ pkg, name string }{
	{"./policy", "FuzzParse"},
	{"./audit", "FuzzVerify"},
	{"./gateway", "FuzzSlackInteraction"},
	{"./attest", "FuzzVerify"},
}

// fuzzTime is how long each target runs: FOUREYES_FUZZTIME, default 10s.
func fuzzTime() string {
	if v := os.Getenv("FOUREYES_FUZZTIME"); v != "" {
		return v
	}
	return "10s"
}

// fuzzWanted: after the whole suite, or when FOUREYES_FUZZTIME asks; "0"
// turns it off.
func fuzzWanted(args []string) bool {
	v := os.Getenv("FOUREYES_FUZZTIME")
	return v != "0" && (len(args) == 0 || v != "")
}

// runFuzz runs each target for d, stopping at the first crash.
func runFuzz(root string, env []string, out io.Writer, d string) int {
	for _, t := range fuzzTargets {
		code := goCmd(root, env, out, "test", "-run=^$", "-fuzz=^"+t.name+"$", "-fuzztime="+d, "-fuzzminimizetime=2s", t.pkg)
		if code != 0 {
			logf(out, "%s found a crash: the input is in %s/testdata/fuzz/%s/ — fix it and commit the input as a regression test",
				t.name, strings.TrimPrefix(t.pkg, "./"), t.name)
			return code
		}
	}
	return 0
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
