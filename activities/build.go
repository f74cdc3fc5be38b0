package activities

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/attest"
)

// BuildActivities are the build role's activities.
type BuildActivities struct {
	Identity    string
	ArtifactDir string
	Command     string // optional; empty means the deterministic default build
	Timeout     time.Duration
	// RegistryToken is the build role's own secret, passed to Command as
	// FOUREYES_BUILD_REGISTRY_TOKEN when set.
	RegistryToken string
	// Signer is the build role's key: it signs the provenance of every artifact.
	Signer *attest.Signer
}

// Build produces the artifact of one commit at ArtifactDir/<service>-<commit>.tar
// and returns its SHA-256 with the build role's signed provenance: only the
// provenance is trusted downstream, so nothing is built without a key.
func (a *BuildActivities) Build(ctx context.Context, in BuildInput) (BuildResult, error) {
	if err := checkBuildInput(in); err != nil {
		return BuildResult{}, err
	}
	if err := requireSigner(a.Signer, attest.RoleBuild); err != nil {
		return BuildResult{}, err
	}
	started := time.Now()
	res, err := a.buildOnce(ctx, in)
	if err != nil {
		return res, err
	}
	prov := provenance(in, res, started, time.Now())
	if res.Provenance, err = sign(a.Signer, attest.ArtifactSubject(res.Digest), attest.PredicateProvenance, prov); err != nil {
		return BuildResult{}, err
	}
	return res, nil
}

// buildOnce gives a release one artifact: attempts of the same release take
// turns (a lock) and a retry returns the artifact an earlier attempt
// recorded, as long as it still hashes to the recorded digest.
func (a *BuildActivities) buildOnce(ctx context.Context, in BuildInput) (BuildResult, error) {
	dir, err := filepath.Abs(a.ArtifactDir)
	if err != nil {
		return BuildResult{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return BuildResult{}, err
	}
	if in.ReleaseID == "" {
		return a.build(ctx, in, dir)
	}
	o := once{dir: filepath.Join(dir, ".runs", in.ReleaseID), kind: "build"}
	lock, err := o.acquire(ctx)
	if err != nil {
		return BuildResult{}, err
	}
	defer lock.Close()
	if res, ok := a.built(o, in); ok {
		return res, nil
	}
	res, err := a.build(ctx, in, dir)
	if err != nil {
		return res, err
	}
	return res, writeJSON(o.path("json"), res)
}

func checkBuildInput(in BuildInput) error {
	if err := checkName("service", in.Service); err != nil {
		return err
	}
	if in.ReleaseID != "" {
		if err := checkReleaseID(in.ReleaseID); err != nil {
			return err
		}
	}
	return checkCommit(in.Commit)
}

func (a *BuildActivities) build(ctx context.Context, in BuildInput, dir string) (BuildResult, error) {
	path := filepath.Join(dir, artifactName(in.Service, in.Commit))
	out, err := a.produce(ctx, in, path)
	if err != nil {
		return BuildResult{}, err
	}
	digest, err := sha256File(path)
	if err != nil {
		return BuildResult{}, err
	}
	return BuildResult{ArtifactRef: path, Digest: digest, Executor: a.Identity, Output: out}, nil
}

// built is the artifact an earlier attempt of this release recorded, if it
// is still there unchanged.
func (a *BuildActivities) built(o once, in BuildInput) (BuildResult, bool) {
	var res BuildResult
	data, err := os.ReadFile(o.path("json"))
	if err != nil || json.Unmarshal(data, &res) != nil {
		return res, false
	}
	if filepath.Base(res.ArtifactRef) != artifactName(in.Service, in.Commit) {
		return res, false
	}
	if got, err := sha256File(res.ArtifactRef); err != nil || got != res.Digest {
		return res, false
	}
	res.Executor = a.Identity
	res.Output = fmt.Sprintf("reused the artifact built for release %s (not built again)", in.ReleaseID)
	return res, true
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = writeFileAtomic(path, append(data, '\n'))
	return err
}

func (a *BuildActivities) produce(ctx context.Context, in BuildInput, path string) (string, error) {
	if a.Command == "" {
		data, err := defaultArtifact(in.Service, in.Commit)
		if err != nil {
			return "", err
		}
		changed, err := writeFileAtomic(path, data)
		if err != nil {
			return "", err
		}
		if !changed {
			return "reused identical artifact " + path, nil
		}
		return "wrote default artifact " + path, nil
	}
	return a.runCommand(ctx, in, path)
}

// runCommand lets the command write a temp file next to path, then moves it
// into place, so a failed or interrupted build never leaves a partial artifact.
func (a *BuildActivities) runCommand(ctx context.Context, in BuildInput, path string) (string, error) {
	tmp := fmt.Sprintf("%s.%d-%d.tmp", filepath.Join(filepath.Dir(path), "."+filepath.Base(path)),
		os.Getpid(), time.Now().UnixNano())
	defer os.Remove(tmp)
	env := append(baseEnv(),
		"FOUREYES_COMMIT="+in.Commit,
		"FOUREYES_SERVICE="+in.Service,
		"FOUREYES_ENVIRONMENT="+in.Environment,
		"FOUREYES_RELEASE_ID="+in.ReleaseID,
		"FOUREYES_ARTIFACT_PATH="+tmp)
	env = withSecret(env, "FOUREYES_BUILD_REGISTRY_TOKEN", a.RegistryToken)
	out, err := runShell(ctx, a.Command, env, a.Timeout)
	if err != nil {
		return out, commandFailure("build", err, false)
	}
	data, err := os.ReadFile(tmp)
	if err != nil {
		return out, temporal.NewNonRetryableApplicationError(
			"build command wrote no artifact at $FOUREYES_ARTIFACT_PATH\n"+out, ErrTypeCommandFailed, err)
	}
	if _, err := writeFileAtomic(path, data); err != nil {
		return out, err
	}
	return out, nil
}

// defaultArtifact is a small tar whose bytes depend only on service and
// commit (fixed modes and times), so the same commit always hashes the same.
func defaultArtifact(service, commit string) ([]byte, error) {
	files := []struct{ name, body string }{
		{"MANIFEST", fmt.Sprintf("service: %s\ncommit: %s\nbuilder: foureyes default build\n", service, commit)},
		{"bin/" + service, fmt.Sprintf("#!/bin/sh\necho '%s at %s'\n", service, commit)},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.body)),
			ModTime: time.Unix(0, 0).UTC(), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
