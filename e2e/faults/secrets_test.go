package faults

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/figures"
	"github.com/foureyes/foureyes/internal/stacktest"
)

// secrets checks what each role process and each deploy command actually
// hold: a role only its own secrets; the deploy role and its commands no
// Slack secret, no policy (where the bot token hashes are) and no token.
func secrets(t *testing.T, s *stackT) {
	for _, role := range config.Roles {
		env, err := processEnv(s.Local.Roles[role].Pid())
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		for _, p := range s.foreign(role, env, false) {
			t.Errorf("role %s process: %s", role, p)
		}
	}
	files, _ := filepath.Glob(filepath.Join(s.envDir, "*.env"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range s.foreign(config.RoleDeploy, strings.Split(string(data), "\n"), true) {
			t.Errorf("deploy command %s: %s", filepath.Base(f), p)
		}
	}
	if len(files) == 0 {
		t.Error("no deploy command environment was captured")
	}
	figures.Report(t, "secrets apart: %d role processes and %d deploy command environments checked: each holds its own secrets, signing key and Temporal API key only; deploy sees no Slack secret, no token or token hash, and no policy but its own copy (its commands none, and no key)",
		len(config.Roles), len(files))
}

// foreign lists what env (KEY=VALUE lines) of role must not hold, and any
// own secret it lacks; command: env is a command's the role ran, which holds
// no signing key and no policy at all.
func (s *stackT) foreign(role string, env []string, command bool) []string {
	var problems []string
	joined := strings.Join(env, "\n")
	for name, value := range s.secrets {
		own := strings.HasPrefix(name, config.Prefix(role))
		if has := strings.Contains(joined, value); has != own {
			problems = append(problems, fmt.Sprintf("holds %s: %v, want %v", name, has, own))
		}
	}
	problems = append(problems, s.foreignKeys(role, env, command)...)
	problems = append(problems, s.foreignServerKeys(role, env, command)...)
	if role == config.RoleDeploy {
		problems = append(problems, s.deployForbidden(env, joined, command)...)
	}
	return problems
}

// foreignKeys: a role process is told where its own signing key is and
// nothing of another's; a command is told of no key; no key is in the
// environment itself.
func (s *stackT) foreignKeys(role string, env []string, command bool) []string {
	var problems []string
	joined := strings.Join(env, "\n")
	for _, r := range attest.Roles {
		k := devstack.KeyFileVar(r)
		want := r == role && !command
		if has := slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") }); has != want {
			problems = append(problems, fmt.Sprintf("has %s: %v, want %v", k, has, want))
		}
		if path := s.keyFiles[r]; path != "" && r != role && strings.Contains(joined, path) {
			problems = append(problems, "names the signing key file of "+r)
		}
	}
	if strings.Contains(joined, "PRIVATE KEY") {
		problems = append(problems, "holds a private key")
	}
	return problems
}

// foreignServerKeys: a role process is told where its own Temporal API key
// is (and no other identity's); a command is told of none; no key itself is
// in the environment.
func (s *stackT) foreignServerKeys(role string, env []string, command bool) []string {
	var problems []string
	creds := s.Local.Credentials()
	own, _ := devstack.LookupEnv(env, "TEMPORAL_API_KEY_FILE")
	if want := creds.KeyFile(devstack.RoleIdentity(role)); !command && own != want {
		problems = append(problems, fmt.Sprintf("TEMPORAL_API_KEY_FILE=%q, want %q", own, want))
	}
	if command && own != "" {
		problems = append(problems, "a command is told of the Temporal API key "+own)
	}
	joined := strings.Join(env, "\n")
	for _, id := range devstack.ServerIdentities() {
		if key, err := creds.ReadKey(id); err != nil || strings.Contains(joined, key) {
			problems = append(problems, fmt.Sprintf("holds the Temporal API key of %s (%v)", id, err))
		}
		if id != devstack.RoleIdentity(role) && strings.Contains(joined, creds.KeyFile(id)) {
			problems = append(problems, "names the Temporal API key file of "+id)
		}
	}
	return problems
}

// deployForbidden: nothing of the approval role, no token, no policy but
// the deploy role's own copy (which it needs to judge a bundle; its
// commands need none).
func (s *stackT) deployForbidden(env []string, joined string, command bool) []string {
	var problems []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.Contains(k, "SLACK") || strings.HasPrefix(k, config.Prefix(config.RoleApproval)) ||
			strings.Contains(k, "POLICY") && (command || k != "FOUREYES_DEPLOY_POLICY_FILE") {
			problems = append(problems, "has "+k)
		}
	}
	for who, token := range s.Tokens {
		if strings.Contains(joined, token) {
			problems = append(problems, "holds the token of "+who)
		}
	}
	for _, h := range s.policy.Humans {
		if h.TokenSHA256 != "" && strings.Contains(joined, h.TokenSHA256) {
			problems = append(problems, "holds the token hash of "+h.ID)
		}
	}
	for _, b := range s.policy.Bots {
		if strings.Contains(joined, b.TokenSHA256) {
			problems = append(problems, "holds the token hash of bot "+b.ID)
		}
	}
	return problems
}

// processEnv reads a live process's environment (Linux).
func processEnv(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range bytes.Split(data, []byte{0}) {
		if len(kv) > 0 {
			env = append(env, string(kv))
		}
	}
	return env, nil
}

// The checker is not vacuous: leaks of each kind are caught.
func TestForeignCatchesLeaks(t *testing.T) {
	s := &stackT{secrets: map[string]string{"FOUREYES_DEPLOY_CREDENTIALS": "dc", "FOUREYES_APPROVAL_SLACK_BOT_TOKEN": "xoxb-1"},
		Stack:    &stacktest.Stack{Tokens: map[string]string{"bob": "tok-bob"}, Local: &devstack.Local{DataDir: t.TempDir()}},
		keyFiles: map[string]string{"build": "/k/build.key", "deploy": "/k/deploy.key"}}
	s.policy = mustPolicy(t)
	creds := s.Local.Credentials()
	if err := creds.Ensure(); err != nil {
		t.Fatal(err)
	}
	hash := s.policy.Humans[0].TokenSHA256
	apiKey, err := creds.ReadKey(devstack.IdentityAdmin)
	if err != nil {
		t.Fatal(err)
	}
	// The deploy role's own signing key and Temporal API key, by file.
	key := devstack.KeyFileVar(config.RoleDeploy) + "=/k/deploy.key"
	tkey := "TEMPORAL_API_KEY_FILE=" + creds.KeyFile(devstack.RoleIdentity(config.RoleDeploy))
	with := func(extra ...string) []string {
		return append([]string{"FOUREYES_DEPLOY_CREDENTIALS=dc", key, tkey}, extra...)
	}
	for name, env := range map[string][]string{
		"other role's secret":      {"FOUREYES_DEPLOY_CREDENTIALS=dc", key, tkey, "X=xoxb-1"},
		"own secret missing":       {key, tkey},
		"own key missing":          {"FOUREYES_DEPLOY_CREDENTIALS=dc", tkey},
		"other role's key":         with(devstack.KeyFileVar(config.RoleBuild) + "=/k/build.key"),
		"other role's key path":    with("X=/k/build.key"),
		"a private key":            with("X=-----BEGIN PRIVATE KEY-----"),
		"Slack variable":           with("FOUREYES_APPROVAL_SLACK_TEAM_ID=T1"),
		"policy file":              with("FOUREYES_ORCHESTRATOR_POLICY_FILE=/p"),
		"token":                    with("T=tok-bob"),
		"token hash of the policy": with("H=" + hash),
		"own Temporal key missing": {"FOUREYES_DEPLOY_CREDENTIALS=dc", key},
		"a Temporal API key":       with("TEMPORAL_API_KEY=" + apiKey),
		"another's Temporal key":   with("X=" + creds.KeyFile(devstack.IdentityAdmin)),
	} {
		if len(s.foreign(config.RoleDeploy, env, false)) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
	own := with("FOUREYES_DEPLOY_POLICY_FILE=/p", "PATH=/bin")
	if p := s.foreign(config.RoleDeploy, own, false); len(p) != 0 {
		t.Errorf("clean environment flagged: %v", p)
	}
	// A deploy command is told of no key and no policy.
	for name, env := range map[string][]string{
		"the deploy key":     {"FOUREYES_DEPLOY_CREDENTIALS=dc", key},
		"the deploy policy":  {"FOUREYES_DEPLOY_CREDENTIALS=dc", "FOUREYES_DEPLOY_POLICY_FILE=/p"},
		"its Temporal key":   {"FOUREYES_DEPLOY_CREDENTIALS=dc", tkey},
		"own secret missing": {},
	} {
		if len(s.foreign(config.RoleDeploy, env, true)) == 0 {
			t.Errorf("deploy command with %s: not caught", name)
		}
	}
	if p := s.foreign(config.RoleDeploy, []string{"FOUREYES_DEPLOY_CREDENTIALS=dc", "PATH=/bin"}, true); len(p) != 0 {
		t.Errorf("clean command environment flagged: %v", p)
	}
}
