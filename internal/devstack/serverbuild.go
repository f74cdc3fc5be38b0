package devstack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// TemporalServerEnv overrides the path of foureyes' Temporal server binary.
const TemporalServerEnv = "FOUREYES_TEMPORAL_SERVER"

// EnsureTemporalServer returns the path of foureyes' own Temporal server
// (temporal-server/, its own module): $FOUREYES_TEMPORAL_SERVER if set, else
// root/.tools/bin/temporal-server, built when missing or when its sources,
// go.mod or go.sum, or those of the file formats it shares with this module
// (formats/), changed since it was built (a stamp file next to it
// holds their hash).
func EnsureTemporalServer(root string, out io.Writer) (string, error) {
	if p := os.Getenv(TemporalServerEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", TemporalServerEnv, p, err)
		}
		return p, nil
	}
	src := filepath.Join(root, "temporal-server")
	bin := filepath.Join(root, ".tools", "bin", "temporal-server")
	sum, err := sourceHash(src, filepath.Join(root, "formats"))
	if err != nil {
		return "", err
	}
	stamp := bin + ".sources"
	if old, err := os.ReadFile(stamp); err == nil && string(old) == sum {
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	}
	if err := buildServer(src, bin, out); err != nil {
		return "", err
	}
	return bin, os.WriteFile(stamp, []byte(sum), 0o644)
}

// buildServer runs go build -tags release (the tag leaves out the
// Kubernetes client the server's worker autoscaling would compile in, as
// Temporal's release builds do) outside any workspace, on the trimmed copy
// of the server module (servertrim.go).
func buildServer(src, bin string, out io.Writer) error {
	fmt.Fprintf(out, "building foureyes' Temporal server into %s (the first time takes several minutes)\n", bin)
	start := time.Now()
	modfile, err := trimmedModfile(src, filepath.Dir(filepath.Dir(bin)))
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-modfile", modfile, "-tags", "release", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build -tags release in %s: %w", src, err)
	}
	fmt.Fprintf(out, "built %s in %.0fs\n", bin, time.Since(start).Seconds())
	return nil
}

// sourceHash hashes the names and contents of the modules' Go files (tests
// excluded), go.mod and go.sum.
func sourceHash(dirs ...string) (string, error) {
	h := sha256.New()
	for _, dir := range dirs {
		if err := hashDir(h, dir); err != nil {
			return "", fmt.Errorf("hash the sources of %s: %w", dir, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashDir(h io.Writer, dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !buildInput(d.Name()) {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
		return nil
	})
}

func buildInput(name string) bool {
	return name == "go.mod" || name == "go.sum" || strings.HasSuffix(name, ".go.txt") ||
		strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
}
