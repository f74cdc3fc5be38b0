// Package once runs a command at most once across worker crashes, retries
// and duplicated activity tasks.
//
// A Step is one kind of command (deploy, rollback, build, ...) for one
// subject, kept in files of its own folder so that every attempt — a retry,
// a duplicated task, a worker restarted after SIGKILL — sees what the
// earlier ones did:
//
//	KIND.lock     flock: held by whoever runs or inspects the command; the
//	              command's wrapper inherits it, so it stays held while the
//	              command runs, even when the worker that started it died
//	KIND.started  written by the wrapper just before the command starts
//	KIND.exit     the command's exit status, written by the wrapper after it
//	KIND.log      the command's output (a file, so that a command outliving
//	              its worker does not die of SIGPIPE)
//	KIND.fenced   written by Fence: the command must never run (again)
//
// No .started: the command never ran. .exit: it ran to the end and its
// status stands. .started without .exit, lock free: it was killed midway
// and its outcome is unknown. Lock held: it is running; wait for it.
//
// The API:
//
//	lock, err := step.Acquire(ctx) // waits, heartbeating, for a run in progress
//	defer lock.Close()
//	st, err := step.State()        // what earlier attempts did (Started, Exited, RC, Fenced)
//	res := step.Earlier(st)        // their outcome, as a Result (RC -1: unknown)
//	res, err = step.Run(ctx, lock, script, env, timeout) // run it now
//	err = step.Fence("why")        // it never runs again
//
// Inside an activity, waiting heartbeats, and a stopping worker returns an
// ErrTypeWorkerStopping error while the command runs on, for the next
// attempt to resume. What an outcome means (final or retryable) is the
// caller's to decide.
package once
