package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/figures"
)

// runTest builds foureyes' Temporal server, makes sure the Temporal CLI
// (the operators' client) and docker-compose are there, runs
// go test -count=1 ./... (plus args), then — for the whole suite, or when
// FOUREYES_FUZZTIME is set — every fuzz target for a bounded budget; between the
// two it prints the figures the reliability and security suites reported.
func runTest(args []string, out io.Writer) int {
	root, err := devstack.RepoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack test: %v\n", err)
		return 1
	}
	server, err := devstack.EnsureTemporalServer(root, out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack test: %v\n", err)
		return 1
	}
	// The operators' client: tests run `temporal workflow list` with the
	// operator's key against the server.
	cli, err := devstack.EnsureTemporalCLI(root, out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack test: %v\n", err)
		return 1
	}
	if err := ensureCompose(out); err != nil {
		fmt.Fprintf(os.Stderr, "stack test: %v\n", err)
		return 1
	}
	if err := ensureGit(out); err != nil {
		fmt.Fprintf(os.Stderr, "stack test: %v\n", err)
		return 1
	}
	// The approval page's browser test and the demo's passkeys drive
	// Debian's chromium.
	if _, err := ensureChromium(out); err != nil {
		fmt.Fprintf(os.Stderr, "stack test: %v\n", err)
		return 1
	}
	// The cluster's tests (TestCluster, TestClusterFaults) run PostgreSQL.
	if _, err := devstack.EnsurePostgresInstalled(func(m string) { logf(out, "%s", m) }); err != nil {
		fmt.Fprintf(os.Stderr, "stack test: %v\n", err)
		return 1
	}
	figs := filepath.Join(os.TempDir(), fmt.Sprintf("foureyes-figures-%d.txt", os.Getpid()))
	defer os.Remove(figs)
	env := append(os.Environ(), devstack.TemporalServerEnv+"="+server, devstack.TemporalCLIEnv+"="+cli, figures.Env+"="+figs)
	code := goCmd(root, env, out, goTestArgs(args)...)
	if code == 0 && len(args) == 0 {
		// The file formats both modules share (formats/) are a
		// module of their own: ./... leaves them out.
		code = goCmd(filepath.Join(root, "formats"), append(env, "GOWORK=off"), out, "test", "-count=1", "./...")
	}
	if code == 0 && len(args) == 0 {
		code = serverTests(root, env, out)
	}
	// Figures first, so that the run still ends on go test's own closing lines.
	printFigures(out, figs)
	if code == 0 && fuzzWanted(args) {
		code = runFuzz(root, env, out)
	}
	return code
}

// serverTests runs the tests of foureyes' Temporal server, its own module
// (the authorization table, the real server with every role's calls, mTLS,
// the cluster on PostgreSQL), on the trimmed copy of the server module the
// server's build used (devstack.TrimmedModfile): its packages are compiled
// already.
func serverTests(root string, env []string, out io.Writer) int {
	args := []string{"test", "-count=1", "-p", "1", "-tags", "release"}
	modfile, err := devstack.TrimmedModfile(root)
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack test: %v\n", err)
		return 1
	}
	args = append(args, "-modfile", modfile, "./...")
	return goCmd(filepath.Join(root, "temporal-server"), append(env, "GOWORK=off"), out, args...)
}

// goCmd runs go with args in root and returns its exit code.
func goCmd(root string, env []string, out io.Writer, args ...string) int {
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = root, env
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	logf(out, "go %s", strings.Join(args, " "))
	err := cmd.Run()
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
	// -p 1: several packages start real stacks on free ports; one package at
	// a time keeps them from racing for the same port and for two cores.
	args := []string{"test", "-count=1", "-p", "1"}
	// -timeout 30m unless the caller gives one: a package's tests run in one
	// binary, and the fault suites (role kills, the cluster's crashes, the
	// short soak) and the integration suites (a real stack each) come near go
	// test's default of 10 minutes on a loaded machine, where a timeout's
	// panic would lose every release's reason.
	if !slices.ContainsFunc(extra, func(a string) bool { return strings.HasPrefix(a, "-timeout") }) {
		args = append(args, "-timeout", "30m")
	}
	for _, a := range extra {
		if strings.HasPrefix(a, "./") {
			return append(args, extra...)
		}
	}
	return append(append(args, "./..."), extra...)
}

// ensureGit installs Debian's git with apt-get when missing: the build role
// runs it, and the tests make real repositories. Without it the tests
// cannot pass, so it is an error wherever it cannot be installed.
func ensureGit(out io.Writer) error {
	if _, err := exec.LookPath("git"); err == nil {
		return nil
	}
	if _, err := exec.LookPath("apt-get"); err == nil && os.Geteuid() == 0 {
		logf(out, "installing git with apt-get")
		cmd := exec.Command("sh", "-c", "apt-get update && apt-get install -y --no-install-recommends git")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			logf(out, "apt-get install git: %v", err)
		}
		if _, err := exec.LookPath("git"); err == nil {
			return nil
		}
	}
	return errors.New("git is not installed and could not be installed (apt-get install git, as root)")
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
