package faults

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/internal/figures"
)

// secrets checks what each role process and each deploy command actually
// hold: a role only its own secrets; the deploy role and its commands no
// Slack secret, no policy (where the bot token hashes are) and no token.
func secrets(t *testing.T, s *stackT) {
	for _, role := range config.Roles {
		env, err := processEnv(s.local.Roles[role].Pid())
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		for _, p := range s.foreign(role, env) {
			t.Errorf("role %s process: %s", role, p)
		}
	}
	files, _ := filepath.Glob(filepath.Join(s.envDir, "*.env"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range s.foreign(config.RoleDeploy, strings.Split(string(data), "\n")) {
			t.Errorf("deploy command %s: %s", filepath.Base(f), p)
		}
	}
	if len(files) == 0 {
		t.Error("no deploy command environment was captured")
	}
	figures.Report(t, "secrets apart: %d role processes and %d deploy command environments checked: each holds its own secrets only; deploy sees no Slack secret, no policy, no token or token hash",
		len(config.Roles), len(files))
}

// foreign lists what env (KEY=VALUE lines) of role must not hold, and any
// own secret it lacks.
func (s *stackT) foreign(role string, env []string) []string {
	var problems []string
	joined := strings.Join(env, "\n")
	for name, value := range s.secrets {
		own := strings.HasPrefix(name, config.Prefix(role))
		if has := strings.Contains(joined, value); has != own {
			problems = append(problems, fmt.Sprintf("holds %s: %v, want %v", name, has, own))
		}
	}
	if role == config.RoleDeploy {
		problems = append(problems, s.deployForbidden(env, joined)...)
	}
	return problems
}

// deployForbidden: nothing of the approval role, no policy, no token.
func (s *stackT) deployForbidden(env []string, joined string) []string {
	var problems []string
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); strings.Contains(k, "SLACK") || strings.Contains(k, "POLICY") ||
			strings.HasPrefix(k, config.Prefix(config.RoleApproval)) {
			problems = append(problems, "has "+k)
		}
	}
	for who, token := range s.tokens {
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
		tokens: map[string]string{"bob": "tok-bob"}}
	s.policy = mustPolicy(t)
	hash := s.policy.Humans[0].TokenSHA256
	for name, env := range map[string][]string{
		"other role's secret":      {"FOUREYES_DEPLOY_CREDENTIALS=dc", "X=xoxb-1"},
		"own secret missing":       {},
		"Slack variable":           {"FOUREYES_DEPLOY_CREDENTIALS=dc", "FOUREYES_APPROVAL_SLACK_TEAM_ID=T1"},
		"policy file":              {"FOUREYES_DEPLOY_CREDENTIALS=dc", "FOUREYES_ORCHESTRATOR_POLICY_FILE=/p"},
		"token":                    {"FOUREYES_DEPLOY_CREDENTIALS=dc", "T=tok-bob"},
		"token hash of the policy": {"FOUREYES_DEPLOY_CREDENTIALS=dc", "H=" + hash},
	} {
		if len(s.foreign(config.RoleDeploy, env)) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
	if p := s.foreign(config.RoleDeploy, []string{"FOUREYES_DEPLOY_CREDENTIALS=dc", "PATH=/bin"}); len(p) != 0 {
		t.Errorf("clean environment flagged: %v", p)
	}
}
