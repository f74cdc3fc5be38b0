package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes (docs/DESIGN.md).
const (
	exitOK       = 0
	exitFailure  = 1 // operational error: server unreachable, ...
	exitUsage    = 2 // bad usage or input
	exitRefused  = 3 // refused, conflict, release ended not deployed
	exitNotFound = 4
)

// env is what a command runs with.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// envOr returns the environment variable or def when unset.
func (e *env) envOr(name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

// exitError is an error with the exit code it causes.
type exitError struct {
	code  int
	msg   string
	usage bool // also print the command's usage
}

func (e *exitError) Error() string { return e.msg }

func fail(code int, format string, args ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, args...)}
}

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...), usage: true}
}

// report prints err as "starter: CMD: what was wrong" and returns the exit code.
func report(e *env, cmd command, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(e, e.stdout, cmd)
		return exitOK
	}
	ee := &exitError{code: exitFailure}
	errors.As(err, &ee)
	fmt.Fprintf(e.stderr, "starter: %s: %s\n", cmd.name, err)
	if ee.usage {
		commandUsage(e, e.stderr, cmd)
	}
	return ee.code
}

// helpRequest is -h or --help, with the flag set the command defined: its
// usage is written from it.
type helpRequest struct{ fs *flag.FlagSet }

func (h *helpRequest) Error() string        { return flag.ErrHelp.Error() }
func (h *helpRequest) Is(target error) bool { return target == flag.ErrHelp }

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags given before or after positional arguments and
// returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(reorder(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, &helpRequest{fs}
		}
		return nil, usageError("%v", err)
	}
	return fs.Args(), nil
}

// reorder moves flags (with their values) before positional arguments,
// since the flag package stops at the first positional one.
func reorder(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && !isBoolFlag(fs, name) && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return append(append(flags, "--"), pos...)
}

func isBoolFlag(fs *flag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	if f == nil {
		return name == "h" || name == "help"
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// positional checks that exactly the named positional arguments were given.
func positional(pos []string, names ...string) error {
	if len(pos) < len(names) {
		return usageError("missing %s", names[len(pos)])
	}
	if len(pos) > len(names) {
		return usageError("unexpected argument %q", pos[len(names)])
	}
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// oneLine keeps text on one table line, cut to max runes.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}

// parseArgs parses flags and checks for exactly the named positional arguments.
func parseArgs(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return nil, err
	}
	return pos, positional(pos, names...)
}
