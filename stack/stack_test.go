package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/figures"
	"github.com/foureyes/foureyes/internal/readme"
)

func TestRoleEnv(t *testing.T) {
	t.Setenv("FOUREYES_DEPLOY_CREDENTIALS", "deploy-secret")
	t.Setenv("FOUREYES_BUILD_REGISTRY_TOKEN", "")
	root := repoRoot(t)
	s := newStack(upConfig{root: root, dataDir: "/d", uiPort: 8233, gatewayPort: 9480}, &bytes.Buffer{})
	s.local.Server = &devstack.Process{Addr: "127.0.0.1:7"}
	for _, role := range roleNames {
		env, err := s.local.RoleEnv(role)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := devstack.LookupEnv(env, "TEMPORAL_ADDRESS"); v != "127.0.0.1:7" {
			t.Errorf("%s: TEMPORAL_ADDRESS = %q", role, v)
		}
		// Its own API key only, by file; the local CA to trust the server by.
		if v, _ := devstack.LookupEnv(env, "TEMPORAL_API_KEY_FILE"); v != "/d/temporal/keys/foureyes-"+role+".key" {
			t.Errorf("%s: TEMPORAL_API_KEY_FILE = %q", role, v)
		}
		if v, _ := devstack.LookupEnv(env, "TEMPORAL_TLS_CA"); v != "/d/temporal/tls/ca.pem" {
			t.Errorf("%s: TEMPORAL_TLS_CA = %q", role, v)
		}
		if _, has := devstack.LookupEnv(env, "TEMPORAL_API_KEY"); has {
			t.Errorf("%s: an API key in the environment", role)
		}
		_, has := devstack.LookupEnv(env, "FOUREYES_DEPLOY_CREDENTIALS")
		if has != (role == "deploy") {
			t.Errorf("%s: has deploy credentials = %v", role, has)
		}
		if _, has := devstack.LookupEnv(env, "FOUREYES_BUILD_REGISTRY_TOKEN"); has {
			t.Errorf("%s: empty build token passed on", role)
		}
		for _, other := range roleNames {
			if _, has := devstack.LookupEnv(env, devstack.KeyFileVar(other)); has != (other == role) {
				t.Errorf("%s: holds %s = %v", role, devstack.KeyFileVar(other), has)
			}
		}
	}
	env, _ := s.local.RoleEnv("approval")
	for k, want := range map[string]string{"FOUREYES_APPROVAL_LISTEN": "127.0.0.1:9480",
		"FOUREYES_APPROVAL_UI_URL": "http://localhost:8233", "FOUREYES_APPROVAL_POLICY_FILE": "/d/policy.yaml"} {
		if v, _ := devstack.LookupEnv(env, k); v != want {
			t.Errorf("approval %s = %q, want %q", k, v, want)
		}
	}
	env, _ = s.local.RoleEnv("deploy")
	for k, want := range map[string]string{"FOUREYES_DEPLOY_STATE_DIR": "/d/deployments",
		"FOUREYES_DEPLOY_POLICY_FILE": "/d/policy.yaml", "FOUREYES_DEPLOY_SIGNING_KEY_FILE": "/d/keys/deploy.key"} {
		if v, _ := devstack.LookupEnv(env, k); v != want {
			t.Errorf("deploy %s = %q, want %q", k, v, want)
		}
	}
}

func TestGoTestArgs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "test -count=1 -p 1 -timeout 30m ./..."},
		{"-run X -v", "test -count=1 -p 1 -timeout 30m ./... -run X -v"},
		{"-short ./devstack", "test -count=1 -p 1 -timeout 30m -short ./devstack"},
		{"-timeout 5m ./e2e/integration", "test -count=1 -p 1 -timeout 5m ./e2e/integration"},
	}
	for _, tt := range tests {
		if got := strings.Join(goTestArgs(strings.Fields(tt.in)), " "); got != tt.want {
			t.Errorf("goTestArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReleaseID(t *testing.T) {
	for in, want := range map[string]string{`{"release_id":"r-1"}`: "r-1", ` {"id":"r-2","x":1}` + "\n": "r-2"} {
		if got, err := releaseID([]byte(in)); err != nil || got != want {
			t.Errorf("releaseID(%s) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{`{}`, `not json`, `{"release_id":""}`} {
		if _, err := releaseID([]byte(bad)); err == nil {
			t.Errorf("releaseID(%s): want error", bad)
		}
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"start", "--title", "Demo release", "it's"})
	if want := `start --title 'Demo release' 'it'\''s'`; got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}

func TestParseUp(t *testing.T) {
	c, err := parseUp([]string{"--port", "7300", "--ui-port", "0", "--demo=false", "--exit-after-demo", "--data", "rel"})
	if err != nil || c.port != 7300 || c.uiPort != 0 || c.demo || !c.exitAfterDemo || !strings.HasSuffix(c.dataDir, "/rel") {
		t.Fatalf("parseUp = %+v, %v", c, err)
	}
	if _, err := parseUp([]string{"extra"}); err == nil {
		t.Fatal("want error for an extra argument")
	}
}

func TestRunUnknownCommand(t *testing.T) {
	if code := run([]string{"nope"}, &bytes.Buffer{}); code != 2 {
		t.Fatalf("exit = %d", code)
	}
}

// TestReadmeStartCommands runs every command of the README's first code
// block that starts something, as a newcomer would, with --exit-after-demo
// on free ports: each must reach deployed with every demo step passing. A
// command there that CI does not run fails the test (readmeCommand), so the
// README and CI cannot drift apart.
func TestReadmeStartCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end stack demos skipped in -short mode")
	}
	lines, err := readme.Commands(filepath.Join(repoRoot(t), "README.md"), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range lines {
		args, err := readmeCommand(line, repoRoot(t))
		if err != nil || args == nil {
			continue // TestReadmeFirstBlockIsRunByCI fails on the first; .ci/run itself is the second
		}
		t.Run(strings.Join(append([]string{"stack"}, args...), " "), func(t *testing.T) { runDemo(t, args) })
	}
}

// TestReadmeFirstBlockIsRunByCI: every command of the README's first code
// block is run by CI (a start command by TestReadmeStartCommands, the test
// command by .ci/run); a command added there without a CI run fails here.
func TestReadmeFirstBlockIsRunByCI(t *testing.T) {
	lines, err := readme.Commands(filepath.Join(repoRoot(t), "README.md"), "")
	if err != nil || len(lines) == 0 {
		t.Fatalf("README's first block: %q, %v", lines, err)
	}
	for _, line := range lines {
		if _, err := readmeCommand(line, repoRoot(t)); err != nil {
			t.Error(err)
		}
	}
}

// runDemo runs `go run ./stack ARGS --exit-after-demo` and checks its transcript.
func runDemo(t *testing.T, args []string) {
	ports := freePorts(t, 3)
	var out bytes.Buffer
	flags := []string{"--exit-after-demo", "--ui-port", "0", "--port", ports[0], "--gateway-port", ports[1],
		"--metrics-port", "0", "--data", reachableDir(t), "--bin", t.TempDir()}
	if slices.Contains(args, "cluster") {
		flags = append(flags, "--pg-port", ports[2])
	}
	began := time.Now()
	code := run(append(slices.Clone(args), flags...), &out)
	t.Logf("transcript:\n%s", out.String())
	if code != 0 {
		t.Fatalf("stack %s --exit-after-demo exited %d", strings.Join(args, " "), code)
	}
	missing := 0
	for _, want := range demoTranscript {
		if !strings.Contains(out.String(), want) {
			t.Errorf("transcript lacks %q", want)
			missing++
		}
	}
	if missing == 0 {
		figures.Report(t, "README demo `%s`: %s; all %d demo steps shown; %.0fs", strings.Join(append([]string{"go run ./stack"}, args...), " "),
			endedLine(out.String()), len(demoTranscript), time.Since(began).Seconds())
	}
}

// endedLine is the demo's "release … ended deployed" line.
func endedLine(transcript string) string {
	for _, line := range strings.Split(transcript, "\n") {
		if strings.Contains(line, "demo: release ") && strings.Contains(line, " ended ") {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "[stack] demo: "))
		}
	}
	return "no ended line"
}

// reachableDir is a data folder PostgreSQL's own user can pass through
// (t.TempDir's parent is 0700), as a newcomer's data/ is.
func reachableDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "foureyes-demo-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	return dir
}

// demoTranscript is what every shape's demo must show.
var demoTranscript = []string{"alice was refused", "ended deployed", "stopped 5 roles",
	// staging first; prod refused before the soak; then promoted (no rebuild)
	"payments goes to staging first", "the prod start was refused by the promotion rule", "promotion rule: ",
	"then promoting release", "(same artifact, no rebuild)", "promotion_checked", "met ",
	// the authors came from git: nobody declared alice, the status names
	// her and her co-author from the commit, and main was pinned
	"Co-authored-by: Erin Example <erin@example.com>", "found in git: nobody declared her",
	// the prod release is a promotion: it shows the promoted release and
	// the commit staging resolved main to (no "main resolved" line: no build)
	"promotes      release-payments-staging-", "git authors   alice, erin", "payments: round amounts half to even (alice@example.com; signed by alice)",
	// a commit under alice's name that carol signed: carol refused as its signer
	"branch carol-fix: a commit under alice's name that carol signed", "you signed a commit of this change",
	"carol was refused, as she signed a commit of this change",
	"artifacts by digest", "-r--r--r--",
	"foureyes_releases_total{", `reason="author"`,
	// the trail: exported with its envelopes, verified with the policy's
	// keys (signatures and the seal), refused once cut
	"--intoto", "envelopes to", "--policy", "envelopes: ", "approval ", "sealed: by orchestrator key ",
	"status deployed", "own signatures checked against the policy's keys: rita (ssh) requested; bob (ssh) approve at review; carol (passkey) approve at approval; dave (passkey) approve at approval",
	"signing as bob with your own key (gate proof: approver)", "change of 1 commit(s), authors alice, erin:", "carol approved on the approval page with a passkey (headless Chromium): Outcome: accepted", "the chain ends without an audit_sealed entry", "the cut export was refused",
	// the server: the history's events by their owners, forbidden calls refused
	"--principals", "events attested by the server", "ok: every attested event came from the role that owns it",
	"as foureyes-build, send a decide update (a decision in bob's name): refused by the server (PermissionDenied",
	"as release-manager, terminate the release: refused by the server (PermissionDenied"}

func freePorts(t *testing.T, n int) []string {
	var ports []string
	for len(ports) < n {
		p, err := devstack.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if s := strconv.Itoa(p); !slices.Contains(ports, s) {
			ports = append(ports, s)
		}
	}
	return ports
}
