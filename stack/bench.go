package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/foureyes/foureyes/internal/devstack"
)

// runBench runs `go run ./bench ARGS` from the repository root: foureyes
// against the bare-Temporal floor (docs/benchmarks.md).
func runBench(args []string, out io.Writer) int {
	root, err := devstack.RepoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack bench: %v\n", err)
		return 1
	}
	cmd := exec.Command("go", append([]string{"run", "./bench"}, args...)...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack bench: %v\n", err)
		return 1
	}
	return 0
}
