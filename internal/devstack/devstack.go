// Package devstack runs foureyes locally without containers: it builds
// foureyes' Temporal server (and installs the CLI, the operators' client),
// builds the binaries, starts the server and one process per role, each
// with only its own environment and credentials.
package devstack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// ModulePath is the module whose go.mod RepoRoot looks for.
const ModulePath = "github.com/foureyes/foureyes"

// TemporalCLIVersion is the pinned Temporal CLI version (the operators' client).
const TemporalCLIVersion = "v1.5.1"

// TemporalCLIEnv overrides the Temporal CLI path.
const TemporalCLIEnv = "FOUREYES_TEMPORAL_CLI"

// RepoRoot walks up from the working directory to this module's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && isModule(data) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s above the working directory", ModulePath)
		}
		dir = parent
	}
}

func isModule(gomod []byte) bool {
	for _, line := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "module" && f[1] == ModulePath {
			return true
		}
	}
	return false
}

// EnsureTemporalCLI returns the Temporal CLI path: $FOUREYES_TEMPORAL_CLI if
// set, else root/.tools/bin/temporal, installed with `go install` if missing.
func EnsureTemporalCLI(root string, out io.Writer) (string, error) {
	if p := os.Getenv(TemporalCLIEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", TemporalCLIEnv, p, err)
		}
		return p, nil
	}
	bin := filepath.Join(root, ".tools", "bin")
	path := filepath.Join(bin, "temporal")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	pkg := "github.com/temporalio/cli/cmd/temporal@" + TemporalCLIVersion
	fmt.Fprintf(out, "installing Temporal CLI %s into %s (takes a few minutes the first time)\n", TemporalCLIVersion, bin)
	cmd := exec.Command("go", "install", pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOBIN="+bin)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s: %w", pkg, err)
	}
	return path, nil
}

// BuildBinaries builds ./worker and ./starter into outDir.
func BuildBinaries(root, outDir string, out io.Writer) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-o", outDir+string(filepath.Separator), "./worker", "./starter", "./codecserver")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./worker ./starter ./codecserver: %w", err)
	}
	return nil
}

// handedOut are the ports FreePort returned in this process: the kernel
// may hand out a port again once its probe closed, before whoever asked
// for the first binds it (the bench's server metrics port came back as
// the gateway's, and the gateway failed to listen).
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// FreePort asks the kernel for a free TCP port on 127.0.0.1, never one it
// returned before in this process.
func FreePort() (int, error) {
	for range 100 {
		port, err := probePort()
		if err != nil {
			return 0, err
		}
		handedOut.Lock()
		fresh := !handedOut.ports[port]
		handedOut.ports[port] = true
		handedOut.Unlock()
		if fresh {
			return port, nil
		}
	}
	return 0, errors.New("no free TCP port on 127.0.0.1 that was not handed out already")
}

func probePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ReadEnvFile reads KEY=VALUE lines; blank lines and # comments are skipped,
// an optional "export " prefix and matching outer quotes are removed.
func ReadEnvFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var env []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		kv, err := parseEnvLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if kv != "" {
			env = append(env, kv)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return env, nil
}

func parseEnvLine(line string) (string, error) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return "", nil
	}
	line = strings.TrimPrefix(line, "export ")
	key, val, ok := strings.Cut(line, "=")
	key = strings.TrimSpace(key)
	if !ok {
		return "", errors.New("expected KEY=VALUE")
	}
	if !validKey(key) {
		return "", fmt.Errorf("invalid variable name %q", key)
	}
	val = strings.TrimSpace(val)
	if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0] {
		val = val[1 : len(val)-1]
	}
	return key + "=" + val, nil
}

func validKey(k string) bool {
	if k == "" || (k[0] >= '0' && k[0] <= '9') {
		return false
	}
	for _, c := range k {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// SetEnv returns env with key set to value, replacing an earlier entry.
func SetEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

// LookupEnv finds key in env (the last entry wins).
func LookupEnv(env []string, key string) (string, bool) {
	val, found := "", false
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			val, found = v, true
		}
	}
	return val, found
}
