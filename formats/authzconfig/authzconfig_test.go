package authzconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodConfig = `namespace: default
roles:
  orchestrator: {task_queue: foureyes-orchestrator, activity_types: [LoadPolicy, Seal], workflow_types: [Release]}
  build: {task_queue: foureyes-build, activity_types: [Build]}
  review: {task_queue: foureyes-review, activity_types: [Review]}
  approval: {task_queue: foureyes-approval, activity_types: [Notify], updates: [decide, cancel]}
  deploy: {task_queue: foureyes-deploy, activity_types: [Deploy, Verify, Rollback]}
identities:
  - name: foureyes-orchestrator
    role: orchestrator
    api_key_sha256: 0000000000000000000000000000000000000000000000000000000000000001
  - name: foureyes-build
    role: build
    cert_subject: CN=foureyes-build,O=example
  - name: operator
    role: operator
    api_key_sha256: 0000000000000000000000000000000000000000000000000000000000000002
`

func TestParseConfig(t *testing.T) {
	c, err := Parse("s.yaml", []byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	if c.Namespace != "default" || len(c.Identities) != 3 || c.Roles[RoleDeploy].TaskQueue != "foureyes-deploy" {
		t.Errorf("decoded %+v", c)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(goodConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(filepath.Join(dir, "c.yaml")); err != nil {
		t.Error(err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

// Every error names the file, the field and (when known) the line.
func TestParseConfigErrors(t *testing.T) {
	cases := []struct{ name, old, new, want string }{
		{"unknown top field", "namespace: default\n", "namespace: default\nnamespaces: [x]\n", "s.yaml: namespaces: unknown field (line 2)"},
		{"unknown identity field", "    role: orchestrator\n", "    role: orchestrator\n    password: x\n", "s.yaml: identities[0].password: unknown field (line 11)"},
		{"unknown role field", "activity_types: [Build]}", "activity_types: [Build], queue: x}", "s.yaml: roles.build.queue: unknown field (line 4)"},
		{"duplicate key", "namespace: default\n", "namespace: default\nnamespace: other\n", "s.yaml: namespace: duplicate key (first at line 1) (line 2)"},
		{"no namespace", "namespace: default\n", "", "s.yaml: namespace: required"},
		{"unknown role", "    role: orchestrator\n", "    role: root\n", "s.yaml: identities[0].role: unknown role \"root\""},
		{"missing worker role", "  review: {task_queue: foureyes-review, activity_types: [Review]}\n", "", "s.yaml: roles: role \"review\" missing"},
		{"not a worker role", "  deploy:", "  operator: {task_queue: q, activity_types: [A]}\n  deploy:", "s.yaml: roles.operator: not a worker role"},
		{"shared queue", "task_queue: foureyes-review,", "task_queue: foureyes-build,", "roles.review.task_queue: \"foureyes-build\" is also the queue of build"},
		{"shared activity", "activity_types: [Review]", "activity_types: [Build]", "roles.review.activity_types[0]: \"Build\" is also an activity type of build"},
		{"updates outside approval", "activity_types: [Build]}", "activity_types: [Build], updates: [decide]}", "roles.build.updates: only the approval role sends updates"},
		{"workflows outside orchestrator", "activity_types: [Build]}", "activity_types: [Build], workflow_types: [X]}", "roles.build.workflow_types: only the orchestrator runs workflows"},
		{"bad hash", "0000000000000000000000000000000000000000000000000000000000000001", "abc", "s.yaml: identities[0].api_key_sha256: want 64 lowercase hex digits"},
		{"same hash twice", "0000000000000000000000000000000000000000000000000000000000000002", "0000000000000000000000000000000000000000000000000000000000000001", "identities[2].api_key_sha256: same key as identities[0] (line 17)"},
		{"no credential", "    cert_subject: CN=foureyes-build,O=example\n", "", "s.yaml: identities[1]: needs api_key_sha256 or cert_subject (line 12)"},
		{"subject with spaces", "CN=foureyes-build,O=example", "CN=foureyes-build, O=example", "identities[1].cert_subject: write it as Go prints it"},
		{"same name twice", "  - name: operator\n", "  - name: foureyes-build\n", "identities[2].name: \"foureyes-build\" is also identities[1]"},
		{"wrong type", "namespace: default\n", "namespace: [default]\n", "s.yaml: namespace: cannot unmarshal !!seq into string (line 1)"},
	}
	for _, tc := range cases {
		if !strings.Contains(goodConfig, tc.old) {
			t.Fatalf("%s: %q not in the config", tc.name, tc.old)
		}
		_, err := Parse("s.yaml", []byte(strings.Replace(goodConfig, tc.old, tc.new, 1)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, doc := range []string{"", "a: 1\n---\nb: 2\n"} {
		if _, err := Parse("s.yaml", []byte(doc)); err == nil || !strings.HasPrefix(err.Error(), "s.yaml: ") {
			t.Errorf("%q: %v", doc, err)
		}
	}
}
