package activities

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/sdk/activity"
)

// outputTail is how much of a command's combined output is kept.
const outputTail = 4 << 10

// heartbeatEvery is how often a running command heartbeats; a variable so
// tests can shorten it. The SDK throttles heartbeats to the server anyway.
var heartbeatEvery = 5 * time.Second

// commandError is a command that ran and failed: non-zero exit or timeout.
type commandError struct {
	msg      string
	output   string
	timedOut bool
}

func (e *commandError) Error() string { return e.msg }

// runShell runs script with `sh -c` in its own process group, with env as its
// whole environment, heartbeating while it runs. Cancelling ctx (or the
// timeout) kills the group, so no child outlives the activity. It returns the
// tail of the combined output; a failed command is a *commandError, a
// cancelled activity is ctx's error.
func runShell(ctx context.Context, script string, env []string, timeout time.Duration) (string, error) {
	return runShellIn(ctx, script, env, timeout, "")
}

// runShellIn is runShell in folder dir ("" = the worker's).
func runShellIn(ctx context.Context, script string, env []string, timeout time.Duration, dir string) (string, error) {
	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		runCtx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	out := &tailBuffer{max: outputTail}
	cmd := exec.CommandContext(runCtx, "sh", "-c", script)
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.Dir = env, out, out, dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second // background children holding the pipes
	stop := startHeartbeat(ctx)
	err := cmd.Run()
	stop()
	return out.String(), classify(ctx, runCtx, err, timeout, out.String())
}

func classify(ctx, runCtx context.Context, err error, timeout time.Duration, output string) error {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("command cancelled: %w", ctx.Err())
	case runCtx.Err() != nil:
		return &commandError{msg: fmt.Sprintf("command timed out after %s", timeout), output: output, timedOut: true}
	case errors.As(err, &exit):
		return &commandError{msg: fmt.Sprintf("command failed: %s", exit.ProcessState), output: output}
	}
	return fmt.Errorf("command did not run: %w", err)
}

// startHeartbeat heartbeats until stopped, so the server notices a dead worker
// and the activity learns of cancellation during long commands.
func startHeartbeat(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	every, done := heartbeatEvery, make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	})
	// Waiting makes sure no heartbeat follows the activity's result.
	return func() { close(done); wg.Wait() }
}

// baseEnv is the only part of the worker's environment a command inherits:
// everything else (notably other secrets) stays out.
func baseEnv() []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	env := []string{"PATH=" + path}
	if home := os.Getenv("HOME"); home != "" {
		env = append(env, "HOME="+home)
	}
	return env
}

// withSecret adds the role's own secret only when it is set.
func withSecret(env []string, name, value string) []string {
	if value == "" {
		return env
	}
	return append(env, name+"="+value)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.ToValidUTF8(string(b.buf), "")
}
