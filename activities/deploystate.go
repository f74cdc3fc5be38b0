package activities

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/once"
)

func checkDeployInput(in api.DeployInput) error {
	if err := checkReleaseID(in.ReleaseID); err != nil {
		return err
	}
	// The first problem only: a joined error would lose the ApplicationError.
	for _, err := range []error{checkName("service", in.Service), checkName("environment", in.Environment),
		checkCommit(in.Commit), checkDigest(in.Digest)} {
		if err != nil {
			return err
		}
	}
	return nil
}

func (a *DeployActivities) ok(output string) api.StepResult {
	return api.StepResult{OK: true, Output: output, Executor: a.Identity}
}

func (a *DeployActivities) statePath(in api.DeployInput) string {
	return filepath.Join(a.StateDir, in.Environment, in.Service+".json")
}

// record makes this release the current record, keeping cur as .prev.
func (a *DeployActivities) record(in api.DeployInput, path string, cur *deployState) error {
	file := a.statePath(in)
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	st := deployState{ReleaseID: in.ReleaseID, Service: in.Service, Environment: in.Environment,
		Commit: in.Commit, Digest: in.Digest, ArtifactRef: path, DeployedBy: a.Identity,
		DeployedAt: time.Now().UTC()}
	if cur != nil {
		st.PreviousReleaseID = cur.ReleaseID
		if err := writeState(file+".prev", cur); err != nil {
			return err
		}
	} else if err := os.Remove(file + ".prev"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return writeState(file, &st)
}

// checkState returns the artifact path, or a problem when the record does not
// hold this release as approved or its artifact no longer hashes to it.
func (a *DeployActivities) checkState(in api.DeployInput) (path, problem string, err error) {
	st, err := readState(a.statePath(in))
	switch {
	case err != nil:
		return "", "", err
	case st == nil:
		return "", fmt.Sprintf("no deploy record at %s", a.statePath(in)), nil
	case st.ReleaseID != in.ReleaseID:
		return "", fmt.Sprintf("deployed release is %s, not %s", st.ReleaseID, in.ReleaseID), nil
	case st.Digest != in.Digest:
		return "", fmt.Sprintf("deployed digest is %s, not the approved %s", st.Digest, in.Digest), nil
	}
	if path, err = a.deployedArtifact(in, st); err != nil {
		return "", err.Error(), nil
	}
	got, err := sha256File(path)
	if err != nil {
		return "", "deployed artifact unreadable: " + err.Error(), nil
	}
	if got != in.Digest {
		return "", fmt.Sprintf("deployed artifact %s now hashes to %s, not %s", path, got, in.Digest), nil
	}
	return path, "", nil
}

// markVerified records when this release first passed Verify here: the
// start of its soak time for the promotion rules of later environments.
func (a *DeployActivities) markVerified(in api.DeployInput) error {
	file := a.statePath(in)
	st, err := readState(file)
	if err != nil || st == nil || st.ReleaseID != in.ReleaseID || !st.VerifiedAt.IsZero() {
		return err
	}
	st.VerifiedAt = time.Now().UTC()
	return writeState(file, st)
}

// ownStates returns the current record if it holds this release, and the
// .prev record if this release's deploy saved it.
func (a *DeployActivities) ownStates(in api.DeployInput) (cur, prev *deployState, err error) {
	file := a.statePath(in)
	if cur, err = readState(file); err != nil || cur == nil || cur.ReleaseID != in.ReleaseID {
		return nil, nil, err
	}
	if cur.PreviousReleaseID == "" {
		return cur, nil, nil
	}
	if prev, err = readState(file + ".prev"); err != nil || prev == nil || prev.ReleaseID != cur.PreviousReleaseID {
		return cur, nil, err
	}
	return cur, prev, nil
}

func (a *DeployActivities) restore(in api.DeployInput, cur, prev *deployState) (string, error) {
	file := a.statePath(in)
	switch {
	case cur == nil:
		return fmt.Sprintf("%s does not hold release %s; nothing to restore", file, in.ReleaseID), nil
	case prev != nil:
		if err := writeState(file, prev); err != nil {
			return "", err
		}
		if err := os.Remove(file + ".prev"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return fmt.Sprintf("restored release %s in %s", prev.ReleaseID, file), nil
	}
	// Nothing ran here before this release: its record is set aside, never
	// deleted, so that what was deployed and rolled back stays on record.
	if err := os.Rename(file, file+".rolled-back"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	return fmt.Sprintf("set %s aside as .rolled-back (nothing was deployed before release %s)", file, in.ReleaseID), nil
}

func (a *DeployActivities) env(in api.DeployInput, path string) []string {
	stateDir, _ := filepath.Abs(a.StateDir)
	env := append(baseEnv(),
		"FOUREYES_COMMIT="+in.Commit,
		"FOUREYES_SERVICE="+in.Service,
		"FOUREYES_ENVIRONMENT="+in.Environment,
		"FOUREYES_RELEASE_ID="+in.ReleaseID,
		"FOUREYES_ARTIFACT_PATH="+path,
		"FOUREYES_ARTIFACT_DIGEST="+in.Digest,
		"FOUREYES_STATE_DIR="+stateDir)
	return withSecret(env, "FOUREYES_DEPLOY_CREDENTIALS", a.Credentials)
}

// withPrevious tells a rollback command what to go back to, when known.
func withPrevious(env []string, prev *deployState) []string {
	if prev == nil {
		return env
	}
	return append(env,
		"FOUREYES_PREVIOUS_RELEASE_ID="+prev.ReleaseID,
		"FOUREYES_PREVIOUS_COMMIT="+prev.Commit,
		"FOUREYES_PREVIOUS_DIGEST="+prev.Digest,
		"FOUREYES_PREVIOUS_ARTIFACT_PATH="+prev.ArtifactRef)
}

// readState returns nil, nil when there is no record.
func readState(path string) (*deployState, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st deployState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("deploy record %s: %w", path, err)
	}
	return &st, nil
}

func writeState(path string, st *deployState) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	_, err = once.WriteFile(path, append(data, '\n'))
	return err
}
