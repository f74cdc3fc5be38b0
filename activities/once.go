package activities

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// A once is the run of one command (kind deploy, rollback or build) for one
// release, kept in files of its own folder so that every attempt of the
// activity — a retry, a duplicated task, a worker restarted after SIGKILL —
// sees what the earlier ones did:
//
//	KIND.lock     flock: held by whoever runs or inspects the command; the
//	              command's wrapper inherits it, so it stays held while the
//	              command runs, even when the worker that started it died
//	KIND.started  written by the wrapper just before the command starts
//	KIND.exit     the command's exit status, written by the wrapper after it
//	KIND.log      the command's output (a file, so that a command outliving
//	              its worker does not die of SIGPIPE)
//	KIND.fenced   written by a rollback: this release's deploy must never run
//
// No .started: the command never ran. .exit: it ran to the end and its
// status stands. .started without .exit, lock free: it was killed midway
// and its outcome is unknown. Lock held: it is running; wait for it.
type once struct {
	dir, kind string
}

// onceWrapper runs $1 with the lock (fd 3) held by the wrapper only, and
// brackets it with the .started and .exit files of prefix $2.
const onceWrapper = `printf '%s\n' "$$" > "$2.started.tmp" && mv -f "$2.started.tmp" "$2.started" || exit 125
sh -c "$1" 3>&-
rc=$?
printf '%s\n' "$rc" > "$2.exit.tmp" && mv -f "$2.exit.tmp" "$2.exit"
exit $rc`

// lockPoll is how often a waiting attempt tries the lock again.
var lockPoll = 250 * time.Millisecond

// ErrTypeWorkerStopping: the worker stopped while its command ran on; the
// next attempt resumes it (retryable).
const ErrTypeWorkerStopping = "WorkerStopping"

// onceState is what the files say about earlier runs.
type onceState struct {
	started, exited, fenced bool
	rc                      int
	startedAt               time.Time
}

// onceResult is how a command ended: rc -1 means killed midway.
type onceResult struct {
	rc       int
	output   string
	timedOut bool
	resumed  bool // an earlier attempt ran it; this one only read its outcome
}

func (o once) path(ext string) string { return filepath.Join(o.dir, o.kind+"."+ext) }

// acquire takes the kind's lock, waiting (and heartbeating) while another
// attempt or an orphaned command holds it.
func (o once) acquire(ctx context.Context) (*os.File, error) {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(o.path("lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return f, closeOnError(f, err)
		}
		heartbeat(ctx, o.kind+": waiting for the run in progress")
		select {
		case <-ctx.Done():
			return nil, closeOnError(f, ctx.Err())
		case <-workerStopping(ctx):
			return nil, closeOnError(f, o.stopping())
		case <-time.After(lockPoll):
		}
	}
}

func closeOnError(f *os.File, err error) error {
	if err != nil {
		f.Close()
	}
	return err
}

// state reads the files; the caller holds the lock.
func (o once) state() (onceState, error) {
	var st onceState
	info, err := os.Stat(o.path("started"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return st, err
	}
	st.started = err == nil
	if st.started {
		st.startedAt = info.ModTime().UTC()
	}
	if _, err := os.Stat(o.path("fenced")); err == nil {
		st.fenced = true
	}
	data, err := os.ReadFile(o.path("exit"))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.exited = true
	if st.rc, err = strconv.Atoi(strings.TrimSpace(string(data))); err != nil {
		return st, fmt.Errorf("%s: %w", o.path("exit"), err)
	}
	return st, nil
}

// earlier is the outcome of an earlier run, as a result.
func (o once) earlier(st onceState) onceResult {
	res := onceResult{rc: -1, resumed: true, output: o.output()}
	if st.exited {
		res.rc = st.rc
	}
	return res
}

// output is the tail of the command's log.
func (o once) output() string {
	data, _ := os.ReadFile(o.path("log"))
	if len(data) > outputTail {
		data = data[len(data)-outputTail:]
	}
	return strings.ToValidUTF8(string(data), "")
}

// fence marks the kind as never to run (again); the caller holds its lock.
func (o once) fence() error {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	_, err := writeFileAtomic(o.path("fenced"), []byte("fenced by rollback\n"))
	return err
}

// clear forgets an earlier run so that the command may run again.
func (o once) clear() error {
	for _, ext := range []string{"started", "exit", "log"} {
		if err := os.Remove(o.path(ext)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// run starts script under the wrapper, handing it the held lock, and waits.
func (o once) run(ctx context.Context, lock *os.File, script string, env []string, timeout time.Duration) (onceResult, error) {
	cmd, err := o.start(lock, script, env)
	if err != nil {
		return onceResult{}, err
	}
	return o.wait(ctx, cmd, timeout)
}

// start forgets any earlier run and starts the wrapper. The wrapper gets the
// lock as fd 3 (the same open file, so the same flock) and its own process
// group: killing the worker does not kill the command.
func (o once) start(lock *os.File, script string, env []string) (*exec.Cmd, error) {
	if err := o.clear(); err != nil {
		return nil, err
	}
	log, err := os.OpenFile(o.path("log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command("sh", "-c", onceWrapper, "foureyes-"+o.kind, script, filepath.Join(o.dir, o.kind))
	cmd.Env, cmd.Stdout, cmd.Stderr = env, log, log
	cmd.ExtraFiles = []*os.File{lock}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s command did not run: %w", o.kind, err)
	}
	return cmd, nil
}

// wait heartbeats until the command ends. A cancel or the timeout kills it;
// a stopping worker leaves it running for the next attempt to resume.
func (o once) wait(ctx context.Context, cmd *exec.Cmd, timeout time.Duration) (onceResult, error) {
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	expired := afterOrNever(timeout)
	beat := time.NewTicker(heartbeatEvery)
	defer beat.Stop()
	for {
		select {
		case <-done:
			st, err := o.state()
			return onceResult{rc: exitOf(st), output: o.output()}, err
		case <-beat.C:
			heartbeat(ctx, o.kind+": command running")
		case <-expired:
			kill(cmd, done)
			return onceResult{rc: -1, timedOut: true, output: o.output()}, nil
		case <-workerStopping(ctx):
			return onceResult{}, o.stopping()
		case <-ctx.Done():
			kill(cmd, done)
			return onceResult{}, fmt.Errorf("%s command cancelled: %w", o.kind, ctx.Err())
		}
	}
}

func (o once) stopping() error {
	return temporal.NewApplicationError(fmt.Sprintf(
		"worker stopping; the %s command keeps running and the next attempt resumes it", o.kind),
		ErrTypeWorkerStopping)
}

func exitOf(st onceState) int {
	if st.exited {
		return st.rc
	}
	return -1
}

func kill(cmd *exec.Cmd, done <-chan struct{}) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}

func afterOrNever(d time.Duration) <-chan time.Time {
	if d <= 0 {
		return nil
	}
	return time.After(d)
}

// heartbeat records progress when running as an activity.
func heartbeat(ctx context.Context, phase string) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, phase)
	}
}

func workerStopping(ctx context.Context) <-chan struct{} {
	if activity.IsActivity(ctx) {
		return activity.GetWorkerStopChannel(ctx)
	}
	return nil
}
