package main

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReorder(t *testing.T) {
	fs := newFlags("x")
	fs.Bool("json", false, "")
	fs.String("gate", "", "")
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"ID", "--json"}, []string{"--json", "--", "ID"}},
		{[]string{"ID", "--gate", "review", "--json"}, []string{"--gate", "review", "--json", "--", "ID"}},
		{[]string{"--gate=review", "ID"}, []string{"--gate=review", "--", "ID"}},
		{[]string{"-gate", "approval", "ID", "extra"}, []string{"-gate", "approval", "--", "ID", "extra"}},
		{[]string{"ID", "--", "--json"}, []string{"--", "ID", "--json"}},
		{[]string{"-", "--json=false"}, []string{"--json=false", "--", "-"}},
		{[]string{"--gate"}, []string{"--gate", "--"}},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, reorder(fs, tc.in), "%v", tc.in)
	}
}

func TestParseFlagsAfterPositionals(t *testing.T) {
	fs := newFlags("x")
	asJSON := fs.Bool("json", false, "")
	gate := fs.String("gate", "", "")
	pos, err := parse(fs, []string{"release-1", "--gate", "review", "--json"})
	require.NoError(t, err)
	assert.Equal(t, []string{"release-1"}, pos)
	assert.True(t, *asJSON)
	assert.Equal(t, "review", *gate)

	_, err = parse(newFlags("y"), []string{"--nope"})
	assert.ErrorContains(t, err, "flag provided but not defined: -nope")
	_, err = parse(newFlags("y"), []string{"-h"})
	assert.ErrorIs(t, err, flag.ErrHelp)
}

func TestUsageAndUnknown(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{nil, 2, "", "usage: starter"},
		{[]string{"help"}, 0, "starter policy explain", ""},
		{[]string{"-h"}, 0, "exit codes", ""},
		{[]string{"help", "decide"}, 0, "usage: starter decide RELEASE --gate", ""},
		{[]string{"help", "nope"}, 2, "", `unknown command "nope"`},
		{[]string{"frobnicate"}, 2, "", `starter: unknown command "frobnicate"`},
		{[]string{"policy"}, 2, "", `unknown command "policy"`},
		{[]string{"policy", "frob"}, 2, "", `unknown command "policy frob"`},
		{[]string{"status", "--nope", "x"}, 2, "", "starter: status: flag provided but not defined: -nope"},
		{[]string{"status"}, 2, "", "starter: status: missing RELEASE"},
		{[]string{"status", "a", "b"}, 2, "", `starter: status: unexpected argument "b"`},
		{[]string{"wait", "--help"}, 0, "usage: starter wait RELEASE", ""},
		{[]string{"list", "--limit", "0"}, 2, "", "starter: list: --limit: must be between 1 and 1000"},
		{[]string{"list", "--status", "done"}, 2, "", "--status: must be running, closed or one of building"},
		{[]string{"list", "--awaiting", "carol' OR 1=1"}, 2, "", "--awaiting: not an identity"},
		{[]string{"list", "--service", "A'B"}, 2, "", "--service: must be lowercase letters"},
		{[]string{"cancel", "r1", "--as", "bob"}, 2, "", "starter: cancel: --as: cancels are authenticated by your API token now"},
		{[]string{"cancel", "r1", "--as="}, 2, "", "--as: cancels are authenticated by your API token"},
		{[]string{"cancel", "r1"}, 2, "", "starter: cancel: no API token: set FOUREYES_TOKEN or use --token-file"},
		{[]string{"cancel"}, 2, "", "starter: cancel: missing RELEASE"},
		{[]string{"help", "cancel"}, 0, "usage: starter cancel RELEASE [--gateway URL] [--json] [--reason REASON] [--request-id ID] [--token-file FILE]", ""},
		{[]string{"keys"}, 2, "", `unknown command "keys"`},
		{[]string{"keys", "generate"}, 2, "", "starter: keys generate: missing ROLE"},
		{[]string{"help", "keys", "generate"}, 0, "usage: starter keys generate ROLE [--dir DIR", ""},
		{[]string{"audit"}, 2, "", "starter: audit: missing RELEASE"},
		{[]string{"audit", "r1", "--verify", "f"}, 2, "", "--verify takes a file"},
		{[]string{"policy", "check"}, 2, "", "starter: policy check: missing FILE"},
	}
	for _, tc := range tests {
		t.Setenv("FOUREYES_IDENTITY", "")
		t.Setenv("FOUREYES_POLICY_FILE", "")
		t.Setenv("FOUREYES_TOKEN", "")
		code, out, errs := cli(t, nil, tc.args...)
		assert.Equal(t, tc.code, code, "%v: %s", tc.args, errs)
		assert.Contains(t, out, tc.stdout, "%v", tc.args)
		assert.Contains(t, errs, tc.stderr, "%v", tc.args)
		if tc.code == 2 && tc.stderr != "" {
			assert.True(t, strings.HasPrefix(errs, "starter: "), "%v: %q", tc.args, errs)
		}
	}
}

// TestUsageIsTheFlags: every command's usage is written from the flags its
// run defines (one definition): each command hands its flag set back when
// asked for help, and its help names every flag it accepts.
func TestUsageIsTheFlags(t *testing.T) {
	e := &env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	for _, c := range commands() {
		if c.run == nil {
			continue
		}
		fs := flagsOf(e, c)
		if fs == nil {
			t.Errorf("%s: no flag set when asked for help", c.name)
			continue
		}
		var out strings.Builder
		commandUsage(e, &out, c)
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.HasPrefix(f.Usage, "no longer accepted") && !strings.Contains(out.String(), "--"+f.Name) {
				t.Errorf("%s: help leaves out --%s:\n%s", c.name, f.Name, out.String())
			}
		})
	}
	var out strings.Builder
	commandUsage(e, &out, command{name: "decide", args: "RELEASE", run: cmdDecide})
	if !strings.HasPrefix(out.String(), "usage: starter decide RELEASE --gate GATE [--all-for-digest]") {
		t.Errorf("a required flag comes first, a switch takes no value:\n%s", out.String())
	}
}
