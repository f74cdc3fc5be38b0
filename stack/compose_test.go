package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/internal/devstack"
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
	// What each container gets once env files and anchors are merged.
	cmd = exec.Command(bin, "-f", "docker-compose.yml", "config")
	cmd.Dir = repoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker-compose config: %v", err)
	}
	checkComposeKeys(t, parseCompose[keysView](t, out), repoRoot(t))
}

type composeService struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	EnvFile     string            `yaml:"env_file"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []composeVolume   `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	Secrets     []composeSecret   `yaml:"secrets"`
}

// composeVolume is a service's volume as SOURCE:TARGET[:MODE], also when
// written in long syntax (as docker-compose v2 prints it).
type composeVolume string

func (v *composeVolume) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode((*string)(v))
	}
	var long struct {
		Source   string `yaml:"source"`
		Target   string `yaml:"target"`
		ReadOnly bool   `yaml:"read_only"`
	}
	if err := n.Decode(&long); err != nil {
		return err
	}
	*v = composeVolume(long.Source + ":" + long.Target)
	if long.ReadOnly {
		*v += ":ro"
	}
	return nil
}

// composeSecret is a service's secret, short ("name") or long syntax.
type composeSecret struct {
	Source string `yaml:"source"`
	Target string `yaml:"target"`
}

func (s *composeSecret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&s.Source)
	}
	type plain composeSecret
	return n.Decode((*plain)(s))
}

// path is where the secret appears in the container.
func (s composeSecret) path() string {
	switch {
	case s.Target == "":
		return "/run/secrets/" + s.Source
	case strings.HasPrefix(s.Target, "/"):
		return s.Target
	default:
		return "/run/secrets/" + s.Target
	}
}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

// keysView is what of a compose file (as written, or as docker-compose
// config resolves it) decides which keys a container can see.
type keysView struct {
	Services map[string]struct {
		Environment map[string]string `yaml:"environment"`
		Volumes     []composeVolume   `yaml:"volumes"`
		Secrets     []composeSecret   `yaml:"secrets"`
	} `yaml:"services"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

func parseCompose[T any](t *testing.T, data []byte) T {
	t.Helper()
	var f T
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func readCompose(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func loadCompose(t *testing.T) map[string]composeService {
	t.Helper()
	return parseCompose[composeFile](t, readCompose(t)).Services
}

// TestComposeSeparation checks each role's container: its command, env
// file, address, only its own secrets and only the volumes it needs.
func TestComposeSeparation(t *testing.T) {
	svcs := loadCompose(t)
	for _, name := range []string{"postgresql", "temporal-schema", "temporal-frontend", "temporal-history",
		"temporal-matching", "temporal-worker", "temporal-ui"} {
		if _, ok := svcs[name]; !ok {
			t.Errorf("service %s missing", name)
		}
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
	if want := "deployments/env/" + role + ".env"; svc.EnvFile != want {
		t.Errorf("%s: env_file %q, want %q", role, svc.EnvFile, want)
	}
	if a := svc.Environment["TEMPORAL_ADDRESS"]; a != "temporal-frontend:7233" {
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
	const policy = "./keys/policy.yaml:/etc/foureyes/policy.yaml:ro"
	const ca = "./certs/tls/ca.pem:/etc/foureyes/tls/ca.pem:ro" // public: whom to trust
	want := map[string][]composeVolume{
		"orchestrator": {ca, policy},
		"build":        {ca, "artifacts:/data/artifacts", "build:/data/build", policy, "./keys/repos:/etc/foureyes/repos:ro"},
		"review":       {ca, "artifacts:/data/artifacts:ro"},
		"approval":     {ca, policy},
		"deploy":       {ca, "artifacts:/data/artifacts:ro", "deployments:/data/deployments", policy},
	}[role]
	if !slices.Equal(svc.Volumes, want) {
		t.Errorf("%s: volumes %v, want %v", role, svc.Volumes, want)
	}
}

// TestRoleEnvFiles checks each deployments/env file holds only its role's
// settings and no secret value.
func TestRoleEnvFiles(t *testing.T) {
	for _, role := range roleNames {
		env, err := devstack.ReadEnvFile(filepath.Join(repoRoot(t), "deployments", "env", role+".env"))
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

// reporter is the part of *testing.T the compose checks use.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// leaks records what a check reported.
type leaks []string

func (l *leaks) Helper() {}
func (l *leaks) Errorf(format string, args ...any) {
	*l = append(*l, fmt.Sprintf(format, args...))
}

// TestComposeKeysCatchesLeaks: the check fails for each way a role could
// see another role's key.
func TestComposeKeysCatchesLeaks(t *testing.T) {
	good := string(readCompose(t))
	for name, edit := range map[string][2]string{
		"key folder mounted": {"      - artifacts:/data/artifacts:ro\n", "      - artifacts:/data/artifacts:ro\n      - ./keys:/keys:ro\n"},
		"another's secret":   {"secrets: [review.key,", "secrets: [review.key, deploy.key,"},
		"another's variable": {"FOUREYES_APPROVAL_SIGNING_KEY_FILE: /run/secrets/approval.key", "FOUREYES_DEPLOY_SIGNING_KEY_FILE: /run/secrets/approval.key"},
		"swapped key file":   {"file: ./keys/build.key", "file: ./keys/deploy.key"},
	} {
		bad := strings.Replace(good, edit[0], edit[1], 1)
		if bad == good {
			t.Fatalf("%s: docker-compose.yml has no %q", name, edit[0])
		}
		var got leaks
		checkComposeKeys(&got, parseCompose[keysView](t, []byte(bad)), repoRoot(t))
		if len(got) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
}

// TestComposeKeys: each role's container is given its own signing key, at
// the path its key variable names, and no container can see another role's.
func TestComposeKeys(t *testing.T) {
	checkComposeKeys(t, parseCompose[keysView](t, readCompose(t)), repoRoot(t))
}

// checkComposeKeys checks f, whose relative paths are relative to root.
func checkComposeKeys(t reporter, f keysView, root string) {
	t.Helper()
	for _, role := range attest.Roles {
		if file := f.Secrets[role+".key"].File; hostPath(root, file) != filepath.Join(root, "keys", role+".key") {
			t.Errorf("secret %s.key: file %q, want ./keys/%s.key", role, file, role)
		}
	}
	for name, svc := range f.Services {
		var seen []string
		for _, s := range svc.Secrets {
			seen = append(seen, hostPath(root, f.Secrets[s.Source].File))
		}
		for _, v := range svc.Volumes {
			seen = append(seen, hostPath(root, strings.Split(string(v), ":")[0]))
		}
		checkSeesOnlyOwnKey(t, name, seen, root)
		checkKeyVars(t, name, svc.Environment, svc.Secrets)
	}
}

// hostPath resolves a bind mount's or secret's host path; "" for a volume.
func hostPath(root, p string) string {
	switch {
	case strings.HasPrefix(p, "/"):
		return filepath.Clean(p)
	case strings.HasPrefix(p, "."):
		return filepath.Join(root, p)
	default:
		return ""
	}
}

// checkSeesOnlyOwnKey: of the host paths a service sees, none is (or holds)
// another role's key.
func checkSeesOnlyOwnKey(t reporter, name string, seen []string, root string) {
	t.Helper()
	for _, p := range seen {
		for _, role := range attest.Roles {
			key := filepath.Join(root, "keys", role+".key")
			if rel, err := filepath.Rel(p, key); p != "" && err == nil && !strings.HasPrefix(rel, "..") && role != name {
				t.Errorf("%s can see the %s role's key through %s", name, role, p)
			}
		}
	}
}

// checkKeyVars: a role names its own key where its secret is mounted, and
// no service names another role's key.
func checkKeyVars(t reporter, name string, env map[string]string, secrets []composeSecret) {
	t.Helper()
	for _, role := range attest.Roles {
		v, has := env[devstack.KeyFileVar(role)]
		want := "/run/secrets/" + role + ".key"
		signing := signingSecrets(secrets)
		if role == name && (v != want || len(signing) != 1 || signing[0].path() != want) {
			t.Errorf("%s: %s = %q and secrets %v, want %s and that secret only", name, devstack.KeyFileVar(role), v, secrets, want)
		}
		if role != name && has {
			t.Errorf("%s: holds %s", name, devstack.KeyFileVar(role))
		}
		for k, v := range env {
			if role != name && strings.Contains(v, role+".key") {
				t.Errorf("%s: %s=%s names the %s role's key", name, k, v, role)
			}
		}
	}
}

// signingSecrets are the secrets that are a role's signing key (the others
// are TLS material, checked by TestComposeMatchesCluster).
func signingSecrets(secrets []composeSecret) []composeSecret {
	var out []composeSecret
	for _, s := range secrets {
		if slices.Contains(attest.Roles, strings.TrimSuffix(s.Source, ".key")) {
			out = append(out, s)
		}
	}
	return out
}
