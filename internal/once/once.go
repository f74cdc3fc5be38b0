package once

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Step is where the runs of one command are kept: Dir/Kind.*.
type Step struct {
	Dir, Kind string
}

// State is what the files say about earlier runs.
type State struct {
	Started, Exited, Fenced bool
	RC                      int       // the exit status, when Exited
	StartedAt               time.Time // when Started
}

// Result is how a command ended: RC -1 means killed midway (or never
// reported).
type Result struct {
	RC       int
	Output   string // the tail of the command's log
	TimedOut bool
	Resumed  bool // an earlier attempt ran it; this one only read its outcome
}

// ErrTypeWorkerStopping: the worker stopped while its command ran on; the
// next attempt resumes it (retryable).
const ErrTypeWorkerStopping = "WorkerStopping"

// OutputTail is how much of a command's output a Result keeps.
const OutputTail = 4 << 10

// wrapper runs $1 with the lock (fd 3) held by the wrapper only, and
// brackets it with the .started and .exit files of prefix $2.
const wrapper = `printf '%s\n' "$$" > "$2.started.tmp" && mv -f "$2.started.tmp" "$2.started" || exit 125
sh -c "$1" 3>&-
rc=$?
printf '%s\n' "$rc" > "$2.exit.tmp" && mv -f "$2.exit.tmp" "$2.exit"
exit $rc`

// Variables so that tests can be quick.
var (
	lockPoll       = 250 * time.Millisecond // how often a waiting attempt tries the lock again
	heartbeatEvery = 5 * time.Second        // how often a running command heartbeats
)

// Path is the step's file with extension ext (e.g. "json" for a caller's
// own record next to the run).
func (s Step) Path(ext string) string { return filepath.Join(s.Dir, s.Kind+"."+ext) }

// State reads the files; the caller holds the lock.
func (s Step) State() (State, error) {
	var st State
	info, err := os.Stat(s.Path("started"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return st, err
	}
	st.Started = err == nil
	if st.Started {
		st.StartedAt = info.ModTime().UTC()
	}
	if _, err := os.Stat(s.Path("fenced")); err == nil {
		st.Fenced = true
	}
	data, err := os.ReadFile(s.Path("exit"))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.Exited = true
	if st.RC, err = strconv.Atoi(strings.TrimSpace(string(data))); err != nil {
		return st, fmt.Errorf("%s: %w", s.Path("exit"), err)
	}
	return st, nil
}

// Earlier is the outcome of an earlier run, as a result.
func (s Step) Earlier(st State) Result {
	res := Result{RC: -1, Resumed: true, Output: s.Output()}
	if st.Exited {
		res.RC = st.RC
	}
	return res
}

// Output is the tail of the command's log.
func (s Step) Output() string {
	data, _ := os.ReadFile(s.Path("log"))
	if len(data) > OutputTail {
		data = data[len(data)-OutputTail:]
	}
	return strings.ToValidUTF8(string(data), "")
}

// Fence marks the step as never to run (again), why being kept in the
// file; the caller holds its lock.
func (s Step) Fence(why string) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	_, err := WriteFile(s.Path("fenced"), []byte(why+"\n"))
	return err
}

// clear forgets an earlier run so that the command may run again.
func (s Step) clear() error {
	for _, ext := range []string{"started", "exit", "log"} {
		if err := os.Remove(s.Path(ext)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func (s Step) stopping() error {
	return temporal.NewApplicationError(fmt.Sprintf(
		"worker stopping; the %s command keeps running and the next attempt resumes it", s.Kind),
		ErrTypeWorkerStopping)
}

// WriteFile writes a record (a run's state, a deploy or build record, a
// fence) through a temp file, synced, and a rename, then syncs the folder:
// readers never see a partial file and a crash loses no record that was
// written. An identical existing file is kept (changed is false).
func WriteFile(path string, data []byte) (changed bool, err error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	_, werr := tmp.Write(data)
	// Other roles' workers (maybe other users) read artifacts and state.
	if err := errors.Join(werr, tmp.Chmod(0o644), tmp.Sync(), tmp.Close()); err != nil {
		return false, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, err
	}
	return true, syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
