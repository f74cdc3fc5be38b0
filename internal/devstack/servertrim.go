package devstack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The server's build leaves out what foureyes never runs but
// go.temporal.io/server always compiles: its S3 and Google Cloud Storage
// archivers (288 packages: AWS SDK v2, Google Cloud, grpc xDS; about 130
// CPU-s of a cold build). A replace can only swap a whole module and
// go build -overlay refuses files of the module cache, so the build runs on
// a copy of the module under .tools with one file replaced
// (temporal-server/patches/archiver-provider.go.txt), through an alternative
// go.mod (-modfile). The repository's go.mod is untouched: a plain go build
// in temporal-server/ still works, archivers included.

// archiverProvider is the file replaced, and the SHA-256 of the original it
// was written against: another server version fails the build here, loudly.
const (
	archiverProvider       = "common/archiver/provider/provider.go"
	archiverProviderSHA256 = "03ec49872ab94d7e7fa5cdaef7ca68754bbea451236e6fd4fc2c02caae7232d1"
)

// trimmedModfile prepares the copy in tools/server-src and returns the
// alternative go.mod that builds src on it.
func trimmedModfile(src, tools string) (string, error) {
	orig, version, err := serverModule(src)
	if err != nil {
		return "", err
	}
	copyDir := filepath.Join(tools, "server-src", "server@"+version)
	if err := patchedCopy(src, orig, copyDir); err != nil {
		return "", fmt.Errorf("trimmed copy of go.temporal.io/server %s: %w", version, err)
	}
	gomod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil {
		return "", err
	}
	modfile := filepath.Join(tools, "temporal-server.mod")
	gomod = append(gomod, []byte("\nreplace go.temporal.io/server => "+copyDir+"\n")...)
	if err := os.WriteFile(modfile, gomod, 0o644); err != nil {
		return "", err
	}
	sum, err := os.ReadFile(filepath.Join(src, "go.sum"))
	if err != nil {
		return "", err
	}
	return modfile, os.WriteFile(strings.TrimSuffix(modfile, ".mod")+".sum", sum, 0o644)
}

// serverModule is go.temporal.io/server's folder in the module cache and
// its version, as src's go.mod requires it. `go mod download` fetches it
// first: on a fresh machine the module cache does not hold it yet, and
// `go list -m` would then name no folder.
func serverModule(src string) (dir, version string, err error) {
	cmd := exec.Command("go", "mod", "download", "-json", "go.temporal.io/server")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("go mod download go.temporal.io/server in %s: %w: %s", src, err, out)
	}
	var mod struct{ Dir, Version, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return "", "", fmt.Errorf("go mod download go.temporal.io/server in %s: %q", src, out)
	}
	return mod.Dir, mod.Version, nil
}

// patchedCopy copies orig to dst (once: a finished copy holds the patch)
// and puts the patched file in place of the original it checked.
func patchedCopy(src, orig, dst string) error {
	patched, err := os.ReadFile(filepath.Join(src, "patches", "archiver-provider.go.txt"))
	if err != nil {
		return err
	}
	target := filepath.Join(dst, archiverProvider)
	if have, err := os.ReadFile(target); err == nil && string(have) == string(patched) {
		return nil
	}
	original, err := os.ReadFile(filepath.Join(orig, archiverProvider))
	if err != nil {
		return err
	}
	if sum := sha256.Sum256(original); hex.EncodeToString(sum[:]) != archiverProviderSHA256 {
		return fmt.Errorf("%s is not the file patches/archiver-provider.go.txt was written against (a new server version? write the patch again)", archiverProvider)
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := copyTree(orig, dst); err != nil {
		return err
	}
	return os.WriteFile(target, patched, 0o644)
}

// copyTree copies a folder's regular files, writable (the module cache's
// are read-only).
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
}

// TrimmedModfile prepares the trimmed copy for root's temporal-server and
// returns its go.mod: the server's own tests build on it too, so they reuse
// what the server's build compiled instead of compiling the module again.
func TrimmedModfile(root string) (string, error) {
	return trimmedModfile(filepath.Join(root, "temporal-server"), filepath.Join(root, ".tools"))
}
