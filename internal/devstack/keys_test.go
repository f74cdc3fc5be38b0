package devstack

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

func testLocal(t *testing.T) *Local {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return &Local{Root: root, DataDir: t.TempDir(), GatewayPort: 9480}
}

// policyKeys loads the stack's policy, which must list every role's key.
func policyKeys(t *testing.T, l *Local) map[string][]string {
	t.Helper()
	p, _, err := policy.Load(l.PolicyFile())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RequireKeys(l.PolicyFile()); err != nil {
		t.Fatal(err)
	}
	return p.Keys
}

func TestMakeDirsWritesKeysAndPolicy(t *testing.T) {
	l := testLocal(t)
	if err := l.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	checkMode(t, l.KeyDir(), 0o700)
	keys := policyKeys(t, l)
	for _, role := range attest.Roles {
		checkMode(t, l.KeyFile(role), 0o600)
		priv, err := attest.ReadPrivateKey(l.KeyFile(role))
		if err != nil {
			t.Fatal(err)
		}
		if want := attest.FormatPublicKey(priv.Public().(ed25519.PublicKey)); len(keys[role]) != 1 || keys[role][0] != want {
			t.Errorf("policy keys.%s = %v, want [%s]", role, keys[role], want)
		}
	}
	base, _ := os.ReadFile(filepath.Join(l.Root, "deployments", "policy.yaml"))
	composed, _ := os.ReadFile(l.PolicyFile())
	if !bytes.HasPrefix(composed, base) {
		t.Error("the stack's policy does not start with the bytes of deployments/policy.yaml")
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %o, want %o", path, got, want)
	}
}

func TestSecondStartReusesKeys(t *testing.T) {
	l := testLocal(t)
	if err := l.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	first := policyKeys(t, l)
	before, _ := os.Stat(l.PolicyFile())
	_ = os.Chmod(l.KeyFile("build"), 0o644) // loosened by hand: tightened again
	if err := l.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	for _, role := range attest.Roles {
		if got := policyKeys(t, l)[role]; len(got) != 1 || got[0] != first[role][0] {
			t.Errorf("%s: key %v after a second start, want %v", role, got, first[role])
		}
	}
	if after, _ := os.Stat(l.PolicyFile()); !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Error("policy rewritten although its content did not change")
	}
	checkMode(t, l.KeyFile("build"), 0o600)
}

func TestBrokenKeyIsNotReplaced(t *testing.T) {
	l := testLocal(t)
	if err := os.MkdirAll(l.KeyDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.KeyFile("review"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.MakeDirs(); err == nil || !strings.Contains(err.Error(), l.KeyFile("review")) {
		t.Fatalf("err = %v, want one naming %s", err, l.KeyFile("review"))
	}
	if data, _ := os.ReadFile(l.KeyFile("review")); string(data) != "garbage" {
		t.Error("an unreadable key was overwritten")
	}
}

func TestComposePolicyRefusesBaseWithKeys(t *testing.T) {
	l := testLocal(t)
	if err := l.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	withKeys, _ := os.ReadFile(l.PolicyFile())
	keys, _ := EnsureKeys(l.KeyDir())
	if _, err := ComposePolicy("p.yaml", withKeys, keys); err == nil || !strings.Contains(err.Error(), "keys: already listed") {
		t.Fatalf("err = %v, want keys: already listed", err)
	}
}

// TestRoleEnvHoldsOnlyItsOwnKey: each role is given its own key file and no
// other role's, even when the shell running the stack sets them all.
func TestRoleEnvHoldsOnlyItsOwnKey(t *testing.T) {
	l := testLocal(t)
	for _, role := range attest.Roles {
		t.Setenv(KeyFileVar(role), "/shell/"+role+".key")
	}
	for _, role := range attest.Roles {
		env, err := l.RoleEnv(role)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := LookupEnv(env, KeyFileVar(role)); v != l.KeyFile(role) {
			t.Errorf("%s: %s = %q, want %q", role, KeyFileVar(role), v, l.KeyFile(role))
		}
		for _, other := range attest.Roles {
			if other != role {
				checkNoKeyOf(t, role, env, other, l.KeyFile(other))
			}
		}
	}
}

func checkNoKeyOf(t *testing.T, role string, env []string, other, otherKey string) {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k == KeyFileVar(other) || strings.Contains(v, otherKey) || strings.Contains(v, other+".key") {
			t.Errorf("%s: %s gives it the %s role's key", role, kv, other)
		}
	}
}

func TestRoleEnvPolicyFiles(t *testing.T) {
	l := testLocal(t)
	for role, k := range map[string]string{"orchestrator": "FOUREYES_ORCHESTRATOR_POLICY_FILE",
		"approval": "FOUREYES_APPROVAL_POLICY_FILE", "deploy": "FOUREYES_DEPLOY_POLICY_FILE",
		"build": "FOUREYES_BUILD_POLICY_FILE"} {
		env, err := l.RoleEnv(role)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := LookupEnv(env, k); v != l.PolicyFile() {
			t.Errorf("%s: %s = %q, want %q", role, k, v, l.PolicyFile())
		}
	}
}

// The demo repositories are made once, with the same commit ids on every
// machine, and the policy's relative repository paths name them.
func TestMakeDirsMakesTheDemoRepositories(t *testing.T) {
	l := testLocal(t)
	if err := l.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	head := func() string {
		out, err := exec.Command("git", "-C", filepath.Join(l.RepoDir(), "payments"), "log", "--format=%H %ae %(trailers:key=Co-authored-by,valueonly)", "-1").Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	first := head()
	if !strings.HasPrefix(first, "4939e4eae7d7c5abb38ec2d1fdf448d4d7430eed alice@example.com Erin Example <erin@example.com>") {
		t.Errorf("payments' head: %q", first)
	}
	if err := l.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	if again := head(); again != first {
		t.Errorf("made again: %q, was %q", again, first)
	}
	// Every commit signed by its demo identity's key, as git itself says
	// with the policy's keys; carol's commit under alice's name on its branch.
	pol, _, err := policy.Load(l.PolicyFile())
	if err != nil {
		t.Fatal(err)
	}
	allowed := filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(allowed, []byte(pol.AllowedSigners()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", filepath.Join(l.RepoDir(), "payments"), "-c", "gpg.ssh.allowedSignersFile="+allowed,
		"log", "--all", "--format=%H %G? %GS %ae").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "b42eb06aca8c8c26004b4659c52b0bb70808496d G carol@example.com alice@example.com\n" +
		"4939e4eae7d7c5abb38ec2d1fdf448d4d7430eed G alice@example.com alice@example.com\n" +
		DemoBaseline + " G bob@example.com bob@example.com\n"
	if string(out) != want {
		t.Errorf("payments' commits:\n%s\nwant:\n%s", out, want)
	}
	p, _, err := policy.Load(l.PolicyFile())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"payments", "ledger"} {
		svc, ok := p.Service(name)
		if !ok || filepath.Join(filepath.Dir(l.PolicyFile()), svc.Repository) != filepath.Join(l.RepoDir(), name) {
			t.Errorf("the policy's %s repository %q is not %s", name, svc.Repository, filepath.Join(l.RepoDir(), name))
		}
	}
}

// A deploy record of a demo service from before git (a made-up commit) is
// moved aside; one of a commit the repository has stays.
func TestPreGitDeployRecordsAreRetired(t *testing.T) {
	l := testLocal(t)
	if err := l.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(l.DataDir, "deployments", "prod", "payments.json")
	kept := filepath.Join(l.DataDir, "deployments", "staging", "payments.json")
	for path, commit := range map[string]string{old: "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
		kept: "4939e4eae7d7c5abb38ec2d1fdf448d4d7430eed"} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(`{"commit": "`+commit+`"}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old + ".before-git"); err != nil {
		t.Errorf("the made-up commit's record was not moved aside: %v", err)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("a record of a real commit was moved: %v", err)
	}
}
