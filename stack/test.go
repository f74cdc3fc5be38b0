package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/foureyes/foureyes/devstack"
)

// runTest makes sure the Temporal CLI and docker-compose are there, then runs
// go test -count=1 ./... (plus args) and returns its exit code.
func runTest(args []string, out io.Writer) int {
	root, err := devstack.RepoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack test: %v\n", err)
		return 1
	}
	cli, err := devstack.EnsureTemporalCLI(root, out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack test: %v\n", err)
		return 1
	}
	if err := ensureCompose(out); err != nil {
		fmt.Fprintf(os.Stderr, "stack test: %v\n", err)
		return 1
	}
	cmd := exec.Command("go", goTestArgs(args)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), devstack.TemporalCLIEnv+"="+cli)
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	logf(out, "go %s", strings.Join(cmd.Args[1:], " "))
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack test: %v\n", err)
		return 1
	}
	return 0
}

// goTestArgs adds ./... unless the caller named packages (./something).
func goTestArgs(extra []string) []string {
	args := []string{"test", "-count=1"}
	for _, a := range extra {
		if strings.HasPrefix(a, "./") {
			return append(args, extra...)
		}
	}
	return append(append(args, "./..."), extra...)
}

// ensureCompose installs docker-compose with apt-get when missing and
// possible; without it, CI=true fails and anything else warns.
func ensureCompose(out io.Writer) error {
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return nil
	}
	if _, err := exec.LookPath("apt-get"); err == nil && os.Geteuid() == 0 {
		logf(out, "installing docker-compose with apt-get")
		cmd := exec.Command("sh", "-c", "apt-get update && apt-get install -y docker-compose")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			logf(out, "apt-get install docker-compose: %v", err)
		}
		if _, err := exec.LookPath("docker-compose"); err == nil {
			return nil
		}
	}
	if os.Getenv("CI") == "true" {
		return errors.New("docker-compose is not installed and could not be installed (CI=true)")
	}
	logf(out, "WARNING: docker-compose not found; the docker-compose.yml check will be skipped")
	return nil
}
