// Package figures lets the reliability and security tests report what they
// proved (faults injected, hostile requests refused, property cases run).
// `go test` hides the output of passing tests, so each figure is also
// appended to the file named by $FOUREYES_FIGURES, which `go run ./stack
// test` prints after the tests.
package figures

import (
	"fmt"
	"os"
	"testing"
)

// Env names the file figures are appended to.
const Env = "FOUREYES_FIGURES"

// Report logs one figure line and appends it to $FOUREYES_FIGURES if set.
func Report(t testing.TB, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	appendLine(t, line)
}

// Fail fails the test with the line and appends it, marked FAIL, to
// $FOUREYES_FIGURES: a figure short of its total ("23 of 24") is printed
// with the reason of each one missing, next to it.
func Fail(t testing.TB, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Error(line)
	appendLine(t, "FAIL "+line)
}

func appendLine(t testing.TB, line string) {
	t.Helper()
	path := os.Getenv(Env)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Errorf("figures: %v", err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s: %s\n", t.Name(), line)
}
