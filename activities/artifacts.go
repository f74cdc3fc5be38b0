package activities

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
)

// The artifact folder, shared with the review and deploy roles:
//
//	sha256/<digest>             every artifact, named by its SHA-256, written
//	                            once and read-only (0444) afterwards
//	.builds/<service>/<commit>  one line per build of that commit: digest,
//	                            release, time (a rebuild into other bytes is
//	                            recorded here, never written over)
//	.runs/<release>/            one release's build record (once)
//	.tmp/                       builds in progress
const (
	storeDir  = "sha256"
	buildsDir = ".builds"
	tmpDir    = ".tmp"
)

// tempArtifact is a fresh path for a build in progress to write to.
func tempArtifact(dir string, in api.BuildInput) (string, error) {
	tmp := filepath.Join(dir, tmpDir)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	name := in.ReleaseID
	if name == "" {
		name = in.Service
	}
	return filepath.Join(tmp, fmt.Sprintf("%s.%d-%d", name, os.Getpid(), time.Now().UnixNano())), nil
}

// storeArtifact moves a finished artifact to sha256/<digest>, read-only. An
// artifact already there with that name is kept (same digest, same bytes)
// once it is checked to still hash to its name; it is never overwritten.
func storeArtifact(dir, tmp string) (path, digest string, err error) {
	if digest, err = sha256File(tmp); err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, storeDir), 0o755); err != nil {
		return "", "", err
	}
	path = filepath.Join(dir, storeDir, digest)
	if err := os.Chmod(tmp, 0o444); err != nil {
		return "", "", err
	}
	err = os.Link(tmp, path)
	if errors.Is(err, fs.ErrExist) {
		got, herr := sha256File(path)
		if herr == nil && got == digest {
			return path, digest, nil
		}
		return "", "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"artifact store: %s no longer hashes to its name (%s, %v): refusing to write over it", path, got, herr),
			ErrTypeDigestMismatch, nil)
	}
	return path, digest, err
}

// noteBuild records a build of service at commit and tells whether the
// commit was built before: into the same bytes (reproducible), or into
// others (not reproducible: both artifacts are kept, and it is said).
func noteBuild(dir, service, commit, digest, release string) (*attest.Rebuild, error) {
	file := filepath.Join(dir, buildsDir, service, commit)
	earlier, err := readBuilds(file)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if release == "" {
		release = "-"
	}
	_, err = fmt.Fprintf(f, "%s %s %s\n", digest, release, time.Now().UTC().Format(time.RFC3339))
	if err = errors.Join(err, f.Close()); err != nil || len(earlier) == 0 {
		return nil, err
	}
	others := []string{}
	for _, d := range earlier {
		if d != digest && !slices.Contains(others, d) {
			others = append(others, d)
		}
	}
	return &attest.Rebuild{Reproducible: len(others) == 0, EarlierDigest: others}, nil
}

// readBuilds lists the digests of the earlier builds recorded in file.
func readBuilds(file string) ([]string, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var digests []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if d, _, _ := strings.Cut(sc.Text(), " "); digestRE.MatchString(d) {
			digests = append(digests, d)
		}
	}
	return digests, sc.Err()
}
