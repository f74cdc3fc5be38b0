// Package figures lets a test report a figure line: logged, and appended to
// the file $FOUREYES_FIGURES names when set (go run ./stack test prints
// them after the tests). The main module's internal/figures does the same;
// this module cannot import it.
package figures

import (
	"fmt"
	"os"
	"testing"
)

// Env names the file figures are appended to.
const Env = "FOUREYES_FIGURES"

// Report logs a figure line and appends it to $FOUREYES_FIGURES.
func Report(t testing.TB, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
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
	if _, err := fmt.Fprintf(f, "%s: %s\n", t.Name(), line); err != nil {
		t.Errorf("figures: %v", err)
	}
}
