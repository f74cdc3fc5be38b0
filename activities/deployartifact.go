package activities

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/api"
)

// artifactCopy is where the deploy role keeps its own, read-only copy of a
// release's artifact: STATE_DIR/<environment>/<service>.runs/<release>/artifact.
// The artifact folder is shared with other roles (and build commands); a
// file there could be swapped between the digest check and the deploy.
func (a *DeployActivities) artifactCopy(in api.DeployInput) string {
	path := filepath.Join(a.step(in, "deploy").Dir, "artifact")
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// stageArtifact copies the artifact into the deploy role's own folder,
// hashing the bytes as they are copied, refuses a copy that is not the
// approved digest, and hashes the copy once more: the command is given the
// copy, exactly the bytes checked. A copy an earlier attempt made is reused
// when it still hashes right. The caller holds the deploy lock.
func (a *DeployActivities) stageArtifact(in api.DeployInput) (string, error) {
	dst := a.artifactCopy(in)
	if got, err := sha256File(dst); err == nil && got == in.Digest {
		return dst, nil
	}
	src, err := resolveArtifact(a.ArtifactDir, in.ArtifactRef)
	if err != nil {
		return "", temporal.NewNonRetryableApplicationError("refusing to deploy: "+err.Error(), ErrTypeArtifactMissing, err)
	}
	got, err := copyHashing(src, dst, in.Digest)
	if err == nil && got == in.Digest {
		got, err = sha256File(dst)
	}
	if err != nil {
		return "", err
	}
	if got != in.Digest {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"refusing to deploy: artifact %s hashes to %s, but release %s was approved with digest %s",
			src, got, in.ReleaseID, in.Digest), ErrTypeDigestMismatch, nil)
	}
	return dst, nil
}

// copyHashing copies src to a read-only dst and returns the SHA-256 of the
// bytes copied; dst is put in place only when they hash to want.
func copyHashing(src, dst, want string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), in)
	if err = errors.Join(err, tmp.Chmod(0o444), tmp.Sync(), tmp.Close()); err != nil {
		return "", err
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != want {
		return got, nil
	}
	return got, os.Rename(tmp.Name(), dst)
}

// deployedArtifact is the artifact a record deployed: the deploy role's copy,
// or, for records written before there were copies, the file in the
// artifact folder.
func (a *DeployActivities) deployedArtifact(in api.DeployInput, st *deployState) (string, error) {
	if st.ArtifactRef == a.artifactCopy(in) {
		return st.ArtifactRef, nil
	}
	return resolveArtifact(a.ArtifactDir, st.ArtifactRef)
}
