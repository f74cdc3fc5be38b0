package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/devstack"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := devstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestComposeConfig validates docker-compose.yml with docker-compose itself.
func TestComposeConfig(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("docker-compose is not installed (CI=true): run `go run ./stack test` or apt-get install docker-compose")
		}
		t.Skip("docker-compose not installed; `go run ./stack test` installs it")
	}
	cmd := exec.Command(bin, "-f", "docker-compose.yml", "config", "-q")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker-compose config -q: %v\n%s", err, out)
	}
}

type composeService struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	EnvFile     string            `yaml:"env_file"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
}

func loadCompose(t *testing.T) map[string]composeService {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]composeService `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Services
}

// TestComposeSeparation checks each role's container: its command, env
// file, address, only its own secrets and only the volumes it needs.
func TestComposeSeparation(t *testing.T) {
	svcs := loadCompose(t)
	for _, name := range []string{"postgresql", "temporal", "temporal-admin-tools", "temporal-ui"} {
		if _, ok := svcs[name]; !ok {
			t.Errorf("service %s missing", name)
		}
	}
	if db := svcs["temporal"].Environment["DB"]; db != "postgres12" {
		t.Errorf("temporal DB = %q", db)
	}
	for _, role := range roleNames {
		svc, ok := svcs[role]
		if !ok {
			t.Errorf("service %s missing", role)
			continue
		}
		checkRoleService(t, role, svc)
	}
	if !slices.Contains(svcs["approval"].Ports, "8480:8480") {
		t.Errorf("approval ports = %v, want 8480:8480", svcs["approval"].Ports)
	}
}

func checkRoleService(t *testing.T, role string, svc composeService) {
	t.Helper()
	if want := []string{"-role", role}; !slices.Equal(svc.Command, want) {
		t.Errorf("%s: command %v, want %v", role, svc.Command, want)
	}
	if want := "deploy/env/" + role + ".env"; svc.EnvFile != want {
		t.Errorf("%s: env_file %q, want %q", role, svc.EnvFile, want)
	}
	if a := svc.Environment["TEMPORAL_ADDRESS"]; a != "temporal:7233" {
		t.Errorf("%s: TEMPORAL_ADDRESS %q", role, a)
	}
	for _, other := range config.Roles {
		for _, v := range config.SecretVars(other) {
			_, has := svc.Environment[v]
			if has != (other == role) {
				t.Errorf("%s: holds %s = %v (secret of %s)", role, v, has, other)
			}
		}
	}
	want := map[string][]string{
		"orchestrator": {"./deploy/policy.yaml:/etc/foureyes/policy.yaml:ro"},
		"build":        {"artifacts:/data/artifacts"},
		"review":       {"artifacts:/data/artifacts:ro"},
		"approval":     {"./deploy/policy.yaml:/etc/foureyes/policy.yaml:ro"},
		"deploy":       {"artifacts:/data/artifacts:ro", "deployments:/data/deployments"},
	}[role]
	if !slices.Equal(svc.Volumes, want) {
		t.Errorf("%s: volumes %v, want %v", role, svc.Volumes, want)
	}
}

// TestRoleEnvFiles checks each deploy/env file holds only its role's
// settings and no secret value.
func TestRoleEnvFiles(t *testing.T) {
	for _, role := range roleNames {
		env, err := devstack.ReadEnvFile(filepath.Join(repoRoot(t), "deploy", "env", role+".env"))
		if err != nil {
			t.Fatal(err)
		}
		prefix := "FOUREYES_" + strings.ToUpper(role) + "_"
		for _, kv := range env {
			k, _, _ := strings.Cut(kv, "=")
			common := strings.HasPrefix(k, "TEMPORAL_") || strings.HasPrefix(k, "FOUREYES_LOG_")
			if !common && !strings.HasPrefix(k, prefix) {
				t.Errorf("%s.env: %s is not this role's variable", role, k)
			}
			if slices.Contains(config.SecretVars(role), k) {
				t.Errorf("%s.env: secret %s must stay a commented placeholder", role, k)
			}
		}
	}
}
