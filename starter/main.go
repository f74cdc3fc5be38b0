// Command starter is the release manager's CLI: it starts releases, shows
// their status and audit trail, sends decisions through the gateway and
// checks policy files. Run "starter help" for usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one subcommand of the CLI. Its flags are defined once, by
// its run (which parses them first): usage and help are written from that
// flag set (flagsOf), never by hand.
type command struct {
	name    string // "status", or "policy check" for a subcommand
	args    string // positional arguments, as shown in usage
	summary string
	run     func(e *env, args []string) error
}

func commands() []command {
	return []command{
		{"start", "", "start a release", cmdStart},
		{"promote", "RELEASE", "start the next environment's release of a deployed release's artifact (no rebuild)", cmdPromote},
		{"status", "RELEASE", "show a release's status", cmdStatus},
		{"list", "", "list releases (by search attributes)", cmdList},
		{"decide", "RELEASE", "approve or reject a gate through the gateway", cmdDecide},
		{"page", "RELEASE", "print the link to your approval page for a release's gate (sign with your passkey)", cmdPage},
		{"passkey enroll", "", "print the link to your passkey enroll page (it shows the policy lines)", cmdPasskeyEnroll},
		{"cancel", "RELEASE", "ask to cancel a release through the gateway", cmdCancel},
		{"wait", "RELEASE", "wait for a release's result", cmdWait},
		{"audit", "[RELEASE]", "show or export RELEASE's audit trail, or --verify an exported one (with --policy, or --chain-only)", cmdAudit},
		{"policy check", "[FILE (default $FOUREYES_POLICY_FILE)]", "validate a policy file", cmdPolicyCheck},
		{"policy explain", "RELEASE", "who may still sign the open gate", cmdPolicyExplain},
		{"keys generate", "ROLE", "write a role's signing key pair (ROLE.key, ROLE.pub)", cmdKeysGenerate},
		{"help", "[COMMAND]", "show this help", nil},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI and returns its exit code.
func run(args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: os.Getenv}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "starter: missing command")
		usage(e, stderr)
		return exitUsage
	}
	if isHelp(args[0]) {
		return help(e, args[1:])
	}
	cmd, ok := lookup(args)
	if !ok {
		fmt.Fprintf(stderr, "starter: unknown command %q\n", strings.Join(args[:min(len(args), 2)], " "))
		usage(e, stderr)
		return exitUsage
	}
	rest := args[len(strings.Fields(cmd.name)):]
	stopTracing := startTracing(e)
	err := cmd.run(e, rest)
	stopTracing()
	return report(e, cmd, err)
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// lookup finds the command named by the first one or two arguments.
func lookup(args []string) (command, bool) {
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if c.run != nil && len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c, true
		}
	}
	return command{}, false
}

func help(e *env, args []string) int {
	if len(args) == 0 {
		usage(e, e.stdout)
		return exitOK
	}
	cmd, ok := lookup(args)
	if !ok {
		fmt.Fprintf(e.stderr, "starter: help: unknown command %q\n", strings.Join(args, " "))
		return exitUsage
	}
	commandUsage(e, e.stdout, cmd)
	return exitOK
}

func usage(e *env, w io.Writer) {
	fmt.Fprintln(w, "usage: starter COMMAND [ARGS] [FLAGS]   (flags may come before or after arguments)")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  starter %s\n      %s\n", synopsis(c, flagsOf(e, c)), c.summary)
	}
	fmt.Fprintln(w, "\nenvironment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_CERT/KEY/CA,")
	fmt.Fprintln(w, "  FOUREYES_IDENTITY, FOUREYES_TOKEN, FOUREYES_GATEWAY_URL, FOUREYES_UI_URL, FOUREYES_POLICY_FILE")
	fmt.Fprintln(w, "exit codes: 0 ok, 1 operational error, 2 bad usage or input, 3 refused or conflict, 4 not found")
}

// commandUsage is c's synopsis, summary and flags, from its flag set.
func commandUsage(e *env, w io.Writer, c command) {
	fs := flagsOf(e, c)
	fmt.Fprintf(w, "usage: starter %s\n  %s\n", synopsis(c, fs), c.summary)
	if fs == nil {
		return
	}
	fmt.Fprintln(w, "flags:")
	visible(fs, func(f *flag.Flag, value string) {
		name := "--" + f.Name
		if value != "" {
			name += " " + value
		}
		line := fmt.Sprintf("  %-22s %s", name, usageText(f))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			line += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintln(w, line)
	})
}

// flagsOf is the flag set c's run defines: asked for help, every command
// stops at its flag parsing and hands the set back (helpRequest).
func flagsOf(e *env, c command) *flag.FlagSet {
	if c.run == nil {
		return nil
	}
	quiet := &env{stdout: io.Discard, stderr: io.Discard, getenv: e.getenv}
	var h *helpRequest
	if errors.As(c.run(quiet, []string{"-h"}), &h) {
		return h.fs
	}
	return nil
}

// synopsis is "NAME ARGS --required V [--flag V] [--switch]": the flags
// whose usage starts with "required: " first, then the others by name.
func synopsis(c command, fs *flag.FlagSet) string {
	parts := []string{c.name}
	if c.args != "" {
		parts = append(parts, c.args)
	}
	var optional []string
	visible(fs, func(f *flag.Flag, value string) {
		s := "--" + f.Name
		if value != "" {
			s += " " + value
		}
		if strings.HasPrefix(f.Usage, requiredFlag) {
			parts = append(parts, s)
		} else {
			optional = append(optional, "["+s+"]")
		}
	})
	return strings.Join(append(parts, optional...), " ")
}

// requiredFlag starts the usage of a flag the command cannot do without.
const requiredFlag = "required: "

// visible calls fn for each flag of fs but those no longer accepted, with
// the name of its value ("" for a switch): the usage's `quoted` word, else
// the flag's name in capitals.
func visible(fs *flag.FlagSet, fn func(f *flag.Flag, value string)) {
	if fs == nil {
		return
	}
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Usage, "no longer accepted") {
			return
		}
		value, _ := flag.UnquoteUsage(f)
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			value = ""
		} else if !strings.Contains(f.Usage, "`") {
			value = strings.ToUpper(f.Name)
		}
		fn(f, value)
	})
}

// usageText is a flag's usage without its quotes and required mark.
func usageText(f *flag.Flag) string {
	_, text := flag.UnquoteUsage(f)
	return strings.TrimPrefix(text, requiredFlag)
}
