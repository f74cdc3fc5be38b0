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

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/once"
)

// ErrTypeBuildRefused: the build role will not build this release as asked
// (another policy than its own, no valid statement of what is deployed, a
// service its policy does not let through); a retry is refused again.
const ErrTypeBuildRefused = "BuildRefused"

// BuildActivities are the build role's activities.
type BuildActivities struct {
	Identity    string
	ArtifactDir string
	// StateDir holds the build role's own files: a bare mirror per
	// repository and the worktrees builds run in ("" = ArtifactDir/.build).
	StateDir string
	// PolicyFile is the build role's own copy of the policy: each service's
	// repository and build command, and whom commit emails belong to, come
	// from it, never from the task (whoever can schedule a Build could
	// otherwise run any command here). Its hash must be the release's.
	PolicyFile string
	Command    string // optional; the build of services whose policy entry has none
	Timeout    time.Duration
	GitTimeout time.Duration // each git command (DefaultGitTimeout when 0)
	// RegistryToken is the build role's own secret, passed to Command as
	// FOUREYES_BUILD_REGISTRY_TOKEN when set.
	RegistryToken string
	// Signer is the build role's key: it signs the provenance of every artifact.
	Signer *attest.Signer

	policies policyCache
}

// Build produces the artifact of one commit and returns its SHA-256 with
// the build role's signed provenance: only the provenance is trusted
// downstream, so nothing is built without a key.
//
// For releases that take their source from git (in.Git), the service's
// repository comes from the build role's own policy: the requested commit
// (full or short SHA, tag, branch) is resolved once to a full SHA in a bare
// mirror, the change since the last deployed commit (the deploy role's
// signed statement, in.Deployed) is read from git and its authors mapped
// to identities, and the build command runs in a clean worktree of the
// commit (default: git archive). The provenance attests all of it.
// Artifacts are stored once, read-only, as ARTIFACT_DIR/sha256/<digest>.
func (a *BuildActivities) Build(ctx context.Context, in api.BuildInput) (api.BuildResult, error) {
	if err := checkBuildInput(in); err != nil {
		return api.BuildResult{}, err
	}
	if err := requireSigner(a.Signer, attest.RoleBuild); err != nil {
		return api.BuildResult{}, err
	}
	started := time.Now()
	rec, err := a.buildOnce(ctx, in)
	if err != nil {
		return api.BuildResult{}, err
	}
	res := rec.Result
	prov := provenance(in, rec, started, time.Now())
	if res.Provenance, err = sign(a.Signer, attest.ArtifactSubject(res.Digest), attest.PredicateProvenance, prov); err != nil {
		return api.BuildResult{}, err
	}
	return res, nil
}

// buildRecord is what one release's build produced, kept so that a retry
// returns the same artifact and the same account of its source.
type buildRecord struct {
	Ref     string          `json:"ref"` // the commit as the release asked for it
	Result  api.BuildResult `json:"result"`
	Source  *builtSource    `json:"source,omitempty"`
	Rebuild *attest.Rebuild `json:"rebuild,omitempty"`
}

// builtSource is where a git build's bytes came from.
type builtSource struct {
	Repository string        `json:"repository"` // as the policy names it
	Commit     string        `json:"commit"`
	Command    string        `json:"command"` // "" = git archive
	Change     attest.Change `json:"change"`
}

// buildOnce gives a release one artifact: attempts of the same release take
// turns (a lock) and a retry returns the artifact an earlier attempt
// recorded, as long as it still hashes to the recorded digest.
func (a *BuildActivities) buildOnce(ctx context.Context, in api.BuildInput) (buildRecord, error) {
	dir, err := filepath.Abs(a.ArtifactDir)
	if err != nil {
		return buildRecord{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return buildRecord{}, err
	}
	if in.ReleaseID == "" {
		return a.build(ctx, in, dir)
	}
	o := once.Step{Dir: filepath.Join(dir, ".runs", in.ReleaseID), Kind: "build"}
	lock, err := o.Acquire(ctx)
	if err != nil {
		return buildRecord{}, err
	}
	defer lock.Close()
	if rec, ok := a.built(o, in); ok {
		return rec, nil
	}
	rec, err := a.build(ctx, in, dir)
	if err != nil {
		return rec, err
	}
	return rec, writeJSON(o.Path("json"), rec)
}

func checkBuildInput(in api.BuildInput) error {
	if err := checkName("service", in.Service); err != nil {
		return err
	}
	if in.ReleaseID != "" {
		if err := checkReleaseID(in.ReleaseID); err != nil {
			return err
		}
	}
	if !in.Git {
		return checkCommit(in.Commit)
	}
	if err := checkName("environment", in.Environment); err != nil {
		return err
	}
	return checkRevision(in.Commit)
}

// build builds from git when the release asks for it and the build role's
// policy names the service's repository; otherwise from the declared commit
// alone (releases recorded before sources came from git, and services an
// environment lets through without a repository).
func (a *BuildActivities) build(ctx context.Context, in api.BuildInput, dir string) (buildRecord, error) {
	if !in.Git {
		return a.buildDeclared(ctx, in, dir)
	}
	l, err := a.buildPolicy(in.PolicyHash)
	if err != nil {
		return buildRecord{}, err
	}
	if svc, ok := l.pol.Service(in.Service); ok {
		return a.buildFromGit(ctx, in, dir, l, svc.Repository, svc.Build)
	}
	if !l.pol.AllowsNoRepository(in.Environment) {
		return buildRecord{}, refused("service %s has no repository in the build role's policy, and environment %s "+
			"refuses services without one (services_without_repository)", in.Service, in.Environment)
	}
	if err := checkCommit(in.Commit); err != nil {
		return buildRecord{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"service %s has no repository to resolve %q in: give the full 40-hex commit", in.Service, in.Commit),
			ErrTypeInvalidInput, nil)
	}
	return a.buildDeclared(ctx, in, dir)
}

func refused(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeBuildRefused, nil)
}

// buildPolicy is the build role's own policy, which must be the very policy
// the release pinned.
func (a *BuildActivities) buildPolicy(want string) (*loadedPolicy, error) {
	if a.PolicyFile == "" {
		return nil, refused("the build role has no policy of its own (FOUREYES_BUILD_POLICY_FILE): it cannot tell where a service's code is")
	}
	l, err := a.policies.load(a.PolicyFile)
	if err != nil {
		return nil, refused("the build role's policy: %v", err)
	}
	if l.hash != want {
		return nil, refused("the release pinned policy sha256:%s, but the build role's policy %s is sha256:%s",
			want, a.PolicyFile, l.hash)
	}
	return l, nil
}

// buildDeclared builds the declared commit without sources: the command
// (no checkout) or the deterministic default.
func (a *BuildActivities) buildDeclared(ctx context.Context, in api.BuildInput, dir string) (buildRecord, error) {
	tmp, err := tempArtifact(dir, in)
	if err != nil {
		return buildRecord{}, err
	}
	defer os.Remove(tmp)
	out, err := a.produce(ctx, in, tmp)
	if err != nil {
		return buildRecord{}, err
	}
	return a.store(dir, tmp, in, in.Commit, out, nil)
}

// store files the artifact under its digest and records the build.
func (a *BuildActivities) store(dir, tmp string, in api.BuildInput, commit, out string, src *builtSource) (buildRecord, error) {
	path, digest, err := storeArtifact(dir, tmp)
	if err != nil {
		return buildRecord{}, err
	}
	rebuild, err := noteBuild(dir, in.Service, commit, digest, in.ReleaseID)
	if err != nil {
		return buildRecord{}, err
	}
	if rebuild != nil && !rebuild.Reproducible {
		out += fmt.Sprintf("\nnot reproducible: %s at %s was built before as sha256:%v, now sha256:%s (kept both)",
			in.Service, commit, rebuild.EarlierDigest, digest)
	}
	return buildRecord{Ref: in.Commit, Source: src, Rebuild: rebuild,
		Result: api.BuildResult{ArtifactRef: path, Digest: digest, Executor: a.Identity, Output: out, Commit: commit}}, nil
}

// built is the artifact an earlier attempt of this release recorded, if it
// is still there unchanged.
func (a *BuildActivities) built(o once.Step, in api.BuildInput) (buildRecord, bool) {
	var rec buildRecord
	data, err := os.ReadFile(o.Path("json"))
	if err != nil || json.Unmarshal(data, &rec) != nil || rec.Ref != in.Commit || rec.Result.Digest == "" {
		return rec, false
	}
	if got, err := sha256File(rec.Result.ArtifactRef); err != nil || got != rec.Result.Digest {
		return rec, false
	}
	rec.Result.Executor = a.Identity
	rec.Result.Output = fmt.Sprintf("reused the artifact built for release %s (not built again)", in.ReleaseID)
	return rec, true
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = once.WriteFile(path, append(data, '\n'))
	return err
}

// produce writes the artifact of a build without sources to tmp.
func (a *BuildActivities) produce(ctx context.Context, in api.BuildInput, tmp string) (string, error) {
	if a.Command == "" {
		data, err := defaultArtifact(in.Service, in.Commit)
		if err != nil {
			return "", err
		}
		return "wrote the default artifact of " + in.Service + " at " + in.Commit, os.WriteFile(tmp, data, 0o644)
	}
	return a.runCommand(ctx, in, a.Command, in.Commit, "", tmp)
}

// runCommand runs a build command (in dir, when set) that must write the
// artifact to tmp; a failed or interrupted build leaves nothing behind.
func (a *BuildActivities) runCommand(ctx context.Context, in api.BuildInput, command, commit, dir, tmp string) (string, error) {
	env := append(baseEnv(),
		"FOUREYES_COMMIT="+commit,
		"FOUREYES_SERVICE="+in.Service,
		"FOUREYES_ENVIRONMENT="+in.Environment,
		"FOUREYES_RELEASE_ID="+in.ReleaseID,
		"FOUREYES_ARTIFACT_PATH="+tmp)
	if dir != "" {
		env = append(env, "FOUREYES_SOURCE_DIR="+dir, "FOUREYES_REF="+in.Commit)
	}
	env = withSecret(env, "FOUREYES_BUILD_REGISTRY_TOKEN", a.RegistryToken)
	out, err := runShellIn(ctx, command, env, a.Timeout, dir)
	if err != nil {
		return out, commandFailure("build", err, false)
	}
	if _, err := os.Stat(tmp); err != nil {
		return out, temporal.NewNonRetryableApplicationError(
			"build command wrote no artifact at $FOUREYES_ARTIFACT_PATH\n"+out, ErrTypeCommandFailed, err)
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
