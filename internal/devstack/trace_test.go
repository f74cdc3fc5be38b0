package devstack

import (
	"path/filepath"
	"testing"
)

// TestRoleEnvTracing: each role traces as foureyes-ROLE into
// data/traces/ROLE.jsonl; a collector in the shell replaces the file and
// its OTEL_* settings are passed on; Untraced gives no tracing setting.
func TestRoleEnvTracing(t *testing.T) {
	l := testLocal(t)
	env, err := l.RoleEnv("deploy")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := LookupEnv(env, "OTEL_SERVICE_NAME"); v != "foureyes-deploy" {
		t.Errorf("OTEL_SERVICE_NAME = %q", v)
	}
	if v, _ := LookupEnv(env, "FOUREYES_TRACES_FILE"); v != filepath.Join(l.DataDir, "traces", "deploy.jsonl") {
		t.Errorf("FOUREYES_TRACES_FILE = %q", v)
	}

	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
	t.Setenv("OTEL_SERVICE_NAME", "not-per-process")
	env, err = l.RoleEnv("deploy")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := LookupEnv(env, "OTEL_EXPORTER_OTLP_ENDPOINT"); v != "http://collector:4318" {
		t.Errorf("the shell's collector is not passed on: %q", v)
	}
	if v, _ := LookupEnv(env, "OTEL_SERVICE_NAME"); v != "foureyes-deploy" {
		t.Errorf("OTEL_SERVICE_NAME = %q", v)
	}
	if v, ok := LookupEnv(env, "FOUREYES_TRACES_FILE"); ok {
		t.Errorf("a collector is set, yet a file too: %q", v)
	}

	l.Untraced = true
	env, err = l.RoleEnv("deploy")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT", "FOUREYES_TRACES_FILE"} {
		if v, ok := LookupEnv(env, k); ok {
			t.Errorf("untraced, yet %s=%s", k, v)
		}
	}
}
