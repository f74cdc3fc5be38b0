package once

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Run forgets any earlier run, starts script under the wrapper, handing it
// the held lock, and waits for it (timeout 0: no timeout). A cancel or the
// timeout kills it; a stopping worker leaves it running for the next
// attempt to resume.
func (s Step) Run(ctx context.Context, lock *Lock, script string, env []string, timeout time.Duration) (Result, error) {
	cmd, err := s.Start(lock, script, env)
	if err != nil {
		return Result{}, err
	}
	return s.wait(ctx, cmd, timeout)
}

// Start forgets any earlier run and starts the wrapper without waiting. The
// wrapper gets the lock as fd 3 (the same open file, so the same flock) and
// its own process group: killing the worker does not kill the command. Run
// is what callers want; Start is what a worker killed mid-run leaves behind
// (for tests).
func (s Step) Start(lock *Lock, script string, env []string) (*exec.Cmd, error) {
	if err := s.clear(); err != nil {
		return nil, err
	}
	log, err := os.OpenFile(s.Path("log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command("sh", "-c", wrapper, "foureyes-"+s.Kind, script, filepath.Join(s.Dir, s.Kind))
	cmd.Env, cmd.Stdout, cmd.Stderr = env, log, log
	cmd.ExtraFiles = []*os.File{lock.f}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s command did not run: %w", s.Kind, err)
	}
	return cmd, nil
}

// wait heartbeats until the command ends.
func (s Step) wait(ctx context.Context, cmd *exec.Cmd, timeout time.Duration) (Result, error) {
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	expired := afterOrNever(timeout)
	beat := time.NewTicker(heartbeatEvery)
	defer beat.Stop()
	for {
		select {
		case <-done:
			st, err := s.State()
			return Result{RC: exitOf(st), Output: s.Output()}, err
		case <-beat.C:
			heartbeat(ctx, s.Kind+": command running")
		case <-expired:
			kill(cmd, done)
			return Result{RC: -1, TimedOut: true, Output: s.Output()}, nil
		case <-workerStopping(ctx):
			return Result{}, s.stopping()
		case <-ctx.Done():
			kill(cmd, done)
			return Result{}, fmt.Errorf("%s command cancelled: %w", s.Kind, ctx.Err())
		}
	}
}

func exitOf(st State) int {
	if st.Exited {
		return st.RC
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
