package main

import (
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/internal/devstack"
)

// clusterComposeView is what of docker-compose.yml the comparison with
// `stack cluster` reads.
type clusterComposeView struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Secrets     []composeSecret   `yaml:"secrets"`
		Volumes     []composeVolume   `yaml:"volumes"`
	} `yaml:"services"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

// plannedCluster is `stack cluster`'s topology with its default ports,
// planned (nothing started).
func plannedCluster(t *testing.T) (*devstack.Cluster, *devstack.Local) {
	t.Helper()
	dir := t.TempDir()
	c := &devstack.Cluster{Bin: "temporal-server", Dir: filepath.Join(dir, "cluster"), PGDir: filepath.Join(dir, "pg"),
		LogDir: dir, Port: 7233, UIPort: 8233, PGPort: 5432}
	if err := c.Plan(); err != nil {
		t.Fatal(err)
	}
	return c, &devstack.Local{Root: repoRoot(t), DataDir: dir, GatewayPort: 8480, Cluster: c}
}

// TestComposeMatchesCluster: docker-compose.yml is the topology `go run
// ./stack cluster` runs, service by service: the same server processes
// with the same flags, the same schema job, each role with the same
// Temporal connection variables and its own certificate, and every
// certificate, key and config file where `stack certs` writes it.
func TestComposeMatchesCluster(t *testing.T) {
	f := parseCompose[clusterComposeView](t, readCompose(t))
	c, local := plannedCluster(t)
	compareComposeCluster(t, c, local, f, repoRoot(t))
}

// TestComposeMatchesClusterCatchesLeaks: the comparison fails for a role
// holding another's client key, a service without internode mTLS, and a
// secret file outside what `stack certs` writes.
func TestComposeMatchesClusterCatchesLeaks(t *testing.T) {
	c, local := plannedCluster(t)
	good := string(readCompose(t))
	for name, edit := range map[string][2]string{
		"another role's TLS key": {"secrets: [review.key, tls-foureyes-review.pem, tls-foureyes-review.key]",
			"secrets: [review.key, tls-foureyes-review.pem, tls-foureyes-deploy.key]"},
		"no internode mTLS":   {"      - --internode-tls-cert\n      - /run/secrets/internode.pem\n", ""},
		"moved client key":    {"file: ./certs/tls/clients/foureyes-build.key", "file: ./keys/foureyes-build.key"},
		"an API key variable": {"TEMPORAL_TLS_KEY: /run/secrets/tls-foureyes-deploy.key", "TEMPORAL_API_KEY_FILE: /run/secrets/tls-foureyes-deploy.key"},
	} {
		bad := strings.Replace(good, edit[0], edit[1], 1)
		if bad == good {
			t.Fatalf("%s: docker-compose.yml has no %q", name, edit[0])
		}
		var got leaks
		compareComposeCluster(&got, c, local, parseCompose[clusterComposeView](t, []byte(bad)), repoRoot(t))
		if len(got) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
}

func compareComposeCluster(t reporter, c *devstack.Cluster, local *devstack.Local, f clusterComposeView, root string) {
	t.Helper()
	for _, s := range devstack.ClusterServices {
		svc, ok := f.Services["temporal-"+s]
		if !ok {
			t.Errorf("compose has no temporal-%s (the cluster runs it)", s)
			continue
		}
		compareArgs(t, "temporal-"+s, svc.Command, c.ServiceArgs(s))
		checkSecretsNamed(t, "temporal-"+s, svc.Command, svc.Secrets)
	}
	compareArgs(t, "temporal-schema", f.Services["temporal-schema"].Command, c.SchemaArgs())
	for _, role := range config.Roles {
		env, err := local.RoleEnv(role)
		if err != nil {
			t.Errorf("%s: %v", role, err)
			continue
		}
		svc := f.Services[role]
		compareConnection(t, role, envMap(env), svc.Environment, svc.Secrets)
	}
	checkSecretFiles(t, f, root)
}

// compareArgs: the same flags (each as often), the same values where they
// are not host-specific, and files of the same name (a client certificate
// is the secret tls-NAME in compose).
func compareArgs(t reporter, name string, compose, cluster []string) {
	t.Helper()
	cf, lf := flagValues(compose), flagValues(cluster)
	if !slices.Equal(slices.Sorted(maps.Keys(cf)), slices.Sorted(maps.Keys(lf))) {
		t.Errorf("%s: compose flags %v, the cluster's %v", name, slices.Sorted(maps.Keys(cf)), slices.Sorted(maps.Keys(lf)))
		return
	}
	for flag, cv := range cf {
		lv := lf[flag]
		if len(cv) != len(lv) {
			t.Errorf("%s: %s given %d times in compose, %d in the cluster", name, flag, len(cv), len(lv))
			continue
		}
		for i := range cv {
			if a, b := comparable(flag, cv[i]), comparable(flag, lv[i]); a != b {
				t.Errorf("%s: %s %q in compose, %q in the cluster", name, flag, cv[i], lv[i])
			}
		}
	}
}

// hostSpecific flags differ by design: addresses, bind IP, ports, levels.
var hostSpecific = map[string]bool{"--ip": true, "--postgres-addr": true, "--ui-port": true, "--log-level": true}

// comparable is what must agree of a flag's value: a file by its name, a
// --host by its service, nothing of a host-specific flag.
func comparable(flag, v string) string {
	switch {
	case hostSpecific[flag]:
		return ""
	case flag == "--host":
		s, _, _ := strings.Cut(v, "=")
		return s
	case strings.HasPrefix(v, "/"):
		return strings.TrimPrefix(filepath.Base(v), "tls-")
	}
	return v
}

// flagValues: each flag's values in order ("" for a flag without one);
// words before the first flag (a subcommand) under "".
func flagValues(args []string) map[string][]string {
	out := map[string][]string{}
	for i := 0; i < len(args); i++ {
		flag := args[i]
		if !strings.HasPrefix(flag, "--") {
			out[""] = append(out[""], flag)
			continue
		}
		v := ""
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			i++
			v = args[i]
		}
		out[flag] = append(out[flag], v)
	}
	return out
}

// checkSecretsNamed: a server process holds only the secrets its flags use.
func checkSecretsNamed(t reporter, name string, args []string, secrets []composeSecret) {
	t.Helper()
	for _, s := range secrets {
		if !slices.Contains(args, s.path()) {
			t.Errorf("%s: holds secret %s, which none of its flags uses", name, s.Source)
		}
	}
}

// compareConnection: a role reaches Temporal by the same variables in both
// (address, CA, its own certificate and key; no API key) and compose gives
// it only its own identity's TLS secrets.
func compareConnection(t reporter, role string, local, compose map[string]string, secrets []composeSecret) {
	t.Helper()
	id := devstack.RoleIdentity(role)
	for _, v := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_TLS_CA", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY"} {
		if local[v] == "" || compose[v] == "" {
			t.Errorf("%s: %s is %q in the cluster, %q in compose", role, v, local[v], compose[v])
		}
	}
	for _, v := range []string{"TEMPORAL_API_KEY", "TEMPORAL_API_KEY_FILE"} {
		if _, ok := compose[v]; ok || local[v] != "" {
			t.Errorf("%s: %s set (mTLS only on the cluster)", role, v)
		}
	}
	for v, ext := range map[string]string{"TEMPORAL_TLS_CERT": ".pem", "TEMPORAL_TLS_KEY": ".key"} {
		if comparable("", compose[v]) != id+ext || comparable("", local[v]) != id+ext {
			t.Errorf("%s: %s is %q in compose, %q in the cluster, want %s's", role, v, compose[v], local[v], id)
		}
	}
	for _, s := range secrets {
		if strings.HasPrefix(s.Source, "tls-") && !strings.HasPrefix(s.Source, "tls-"+id+".") {
			t.Errorf("%s: holds %s, another identity's TLS secret", role, s.Source)
		}
	}
}

// checkSecretFiles: every TLS secret and the database password come from
// where `go run ./stack certs` writes them (certs/).
func checkSecretFiles(t reporter, f clusterComposeView, root string) {
	t.Helper()
	k := devstack.Certs{Dir: filepath.Join(root, "certs")}
	want := map[string]string{"postgres.password": k.PasswordFile(),
		"internode.pem": k.InternodeCertFile(), "internode.key": k.InternodeKeyFile(),
		"frontend.pem": k.FrontendCertFile(), "frontend.key": k.FrontendKeyFile()}
	for _, id := range devstack.ClusterIdentities() {
		want["tls-"+id+".pem"], want["tls-"+id+".key"] = k.ClientCertFile(id), k.ClientKeyFile(id)
	}
	for name, s := range f.Secrets {
		if w, ok := want[name]; ok && hostPath(root, s.File) != w {
			t.Errorf("secret %s: file %s, want %s (stack certs)", name, s.File, w)
		}
	}
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// TestStackCertsCommand: `go run ./stack certs` writes every file
// docker-compose.yml mounts from ./certs (secrets and read-only files).
func TestStackCertsCommand(t *testing.T) {
	dir := t.TempDir()
	if code := run([]string{"certs", "--dir", dir}, io.Discard); code != 0 {
		t.Fatalf("stack certs --dir %s exited %d", dir, code)
	}
	f := parseCompose[clusterComposeView](t, readCompose(t))
	var files []string
	for _, s := range f.Secrets {
		files = append(files, s.File)
	}
	for _, svc := range f.Services {
		for _, v := range svc.Volumes {
			files = append(files, strings.Split(string(v), ":")[0])
		}
	}
	n := 0
	for _, file := range files {
		rel, ok := strings.CutPrefix(file, "./certs/")
		if !ok {
			continue
		}
		n++
		if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
			t.Errorf("docker-compose.yml mounts %s, which stack certs does not write: %v", file, err)
		}
	}
	if n < 10 {
		t.Errorf("docker-compose.yml mounts only %d files from ./certs", n)
	}
}
