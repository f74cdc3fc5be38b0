package once

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"

	"go.temporal.io/sdk/activity"
)

// Lock is a held step lock. Close releases it, unless a command started by
// Run still holds it.
type Lock struct{ f *os.File }

// Close releases the lock (for this process).
func (l *Lock) Close() error { return l.f.Close() }

// Acquire takes the step's lock, waiting (and heartbeating) while another
// attempt or an orphaned command holds it.
func (s Step) Acquire(ctx context.Context) (*Lock, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(s.Path("lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return &Lock{f}, closeOnError(f, err)
		}
		heartbeat(ctx, s.Kind+": waiting for the run in progress")
		select {
		case <-ctx.Done():
			return nil, closeOnError(f, ctx.Err())
		case <-workerStopping(ctx):
			return nil, closeOnError(f, s.stopping())
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
