// Command starter is the release manager's CLI: it starts releases, shows
// their status and audit trail, sends decisions through the gateway and
// checks policy files. Run "starter help" for usage.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one subcommand of the CLI.
type command struct {
	name     string // "status", or "policy check" for a subcommand
	synopsis string // arguments, as shown in usage
	summary  string
	run      func(e *env, args []string) error
}

func commands() []command {
	return []command{
		{"start", startSynopsis, "start a release", cmdStart},
		{"promote", promoteSynopsis, "start the next environment's release of a deployed release's artifact (no rebuild)", cmdPromote},
		{"status", "RELEASE [--json]", "show a release's status", cmdStatus},
		{"list", "[--service S] [--env E] [--status running|closed|STATUS] [--requester R] [--awaiting ID] [--since D] [--limit N] [--json]", "list releases (by search attributes)", cmdList},
		{"decide", decideSynopsis, "approve or reject a gate through the gateway", cmdDecide},
		{"page", pageSynopsis, "print the link to your approval page for a release's gate (sign with your passkey)", cmdPage},
		{"passkey enroll", enrollSynopsis, "print the link to your passkey enroll page (it shows the policy lines)", cmdPasskeyEnroll},
		{"cancel", cancelSynopsis, "ask to cancel a release through the gateway", cmdCancel},
		{"wait", "RELEASE [--json]", "wait for a release's result", cmdWait},
		{"audit", "RELEASE [--export FILE] [--intoto FILE] [--json] | --verify FILE (--policy FILE (default $FOUREYES_POLICY_FILE) | --chain-only) [--json]", "show, export or verify an audit trail", cmdAudit},
		{"policy check", "[FILE (default $FOUREYES_POLICY_FILE)] [--json]", "validate a policy file", cmdPolicyCheck},
		{"policy explain", "RELEASE [--json]", "who may still sign the open gate", cmdPolicyExplain},
		{"keys generate", "ROLE [--dir DIR (default .)]", "write a role's signing key pair (ROLE.key, ROLE.pub)", cmdKeysGenerate},
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
		usage(stderr)
		return exitUsage
	}
	if isHelp(args[0]) {
		return help(e, args[1:])
	}
	cmd, ok := lookup(args)
	if !ok {
		fmt.Fprintf(stderr, "starter: unknown command %q\n", strings.Join(args[:min(len(args), 2)], " "))
		usage(stderr)
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
		usage(e.stdout)
		return exitOK
	}
	cmd, ok := lookup(args)
	if !ok {
		fmt.Fprintf(e.stderr, "starter: help: unknown command %q\n", strings.Join(args, " "))
		return exitUsage
	}
	commandUsage(e.stdout, cmd)
	return exitOK
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: starter COMMAND [ARGS] [FLAGS]   (flags may come before or after arguments)")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  starter %s %s\n      %s\n", c.name, c.synopsis, c.summary)
	}
	fmt.Fprintln(w, "\nenvironment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_CERT/KEY/CA,")
	fmt.Fprintln(w, "  FOUREYES_IDENTITY, FOUREYES_TOKEN, FOUREYES_GATEWAY_URL, FOUREYES_UI_URL, FOUREYES_POLICY_FILE")
	fmt.Fprintln(w, "exit codes: 0 ok, 1 operational error, 2 bad usage or input, 3 refused or conflict, 4 not found")
}

func commandUsage(w io.Writer, c command) {
	fmt.Fprintf(w, "usage: starter %s %s\n  %s\n", c.name, c.synopsis, c.summary)
}
