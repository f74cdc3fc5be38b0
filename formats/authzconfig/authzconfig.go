// Package authzconfig is the authorization file of foureyes' Temporal
// server (temporal-server/README.md, "Identities and credentials"): each
// worker role's task queue and what runs there, and the identities, each
// with one role and a credential (an API key's SHA-256 or a certificate
// subject), never a secret. The server decodes it strictly at start (Load);
// the stack writes it (Encode) and auditors read it to know which identity
// holds which role. One definition for both modules.
package authzconfig

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/foureyes/foureyes/formats/yamlfile"
)

// Roles. The worker roles poll a task queue; the others only call.
const (
	RoleOrchestrator   = "orchestrator"
	RoleBuild          = "build"
	RoleReview         = "review"
	RoleApproval       = "approval"
	RoleDeploy         = "deploy"
	RoleReleaseManager = "release-manager"
	RoleOperator       = "operator"
	RoleAdmin          = "admin"
)

// WorkerRoles are the roles with a task queue, each configured under roles:.
var WorkerRoles = []string{RoleOrchestrator, RoleBuild, RoleReview, RoleApproval, RoleDeploy}

// AllRoles is every role an identity may have.
var AllRoles = append(slices.Clone(WorkerRoles), RoleReleaseManager, RoleOperator, RoleAdmin)

// Config is the server's authorization file.
type Config struct {
	// Namespace is the only namespace a non-admin identity may use.
	Namespace string `yaml:"namespace"`
	// Roles holds, for each worker role, its task queue and what runs there.
	Roles map[string]RoleRules `yaml:"roles"`
	// Identities are the callers, each with one role and at least one credential.
	Identities []Identity `yaml:"identities"`
}

// RoleRules is what one worker role polls and runs.
type RoleRules struct {
	// TaskQueue is the role's own queue: the only one it may poll.
	TaskQueue string `yaml:"task_queue"`
	// ActivityTypes run on TaskQueue: the only ones the role may complete,
	// fail or heartbeat, and the only ones the orchestrator may schedule there.
	ActivityTypes []string `yaml:"activity_types,flow"`
	// WorkflowTypes (orchestrator only) run on its queue: what the release
	// manager may start there.
	WorkflowTypes []string `yaml:"workflow_types,flow,omitempty"`
	// Updates (approval only): the workflow updates the role may send.
	Updates []string `yaml:"updates,flow,omitempty"`
}

// Identity is one caller.
type Identity struct {
	Name string `yaml:"name"`
	Role string `yaml:"role"`
	// APIKeySHA256 is the hex SHA-256 of the identity's API key (sent as
	// "authorization: Bearer KEY"); the key itself is never stored.
	APIKeySHA256 string `yaml:"api_key_sha256,omitempty"`
	// CertSubject is the subject of the identity's mTLS client certificate as
	// Go prints a pkix.Name, e.g. "CN=foureyes-build,O=example".
	CertSubject string `yaml:"cert_subject,omitempty"`
}

// Load reads and strictly validates the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("authorization config: %w", err)
	}
	return Parse(path, data)
}

// Parse strictly decodes (unknown fields, duplicate keys and a second
// document are errors) and validates a config; name is used in errors.
func Parse(name string, data []byte) (*Config, error) {
	root, err := yamlfile.Document(name, data, "")
	if err != nil {
		return nil, err
	}
	var c Config
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&c); err != nil {
		return nil, yamlfile.Translate(name, err, "", func(line int, key string) string { return pathAt(root, line, key) })
	}
	if err := c.validate(name, root); err != nil {
		return nil, err
	}
	return &c, nil
}

var (
	hexRE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@:/-]*$`)
)

// pathAt finds the field path of the mapping key named key (any key when
// key is "") on line, or of the value on that line.
func pathAt(n *yaml.Node, line int, key string) string {
	var walk func(n *yaml.Node, path string) (string, bool)
	walk = func(n *yaml.Node, path string) (string, bool) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if p, ok := walk(c, path); ok {
					return p, true
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := join(path, k.Value)
				if k.Line == line && (key == "" || k.Value == key) {
					return p, true
				}
				if q, ok := walk(v, p); ok {
					return q, true
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				if key == "" && c.Line == line && c.Kind == yaml.ScalarNode {
					return p, true
				}
				if q, ok := walk(c, p); ok {
					return q, true
				}
			}
		}
		return "", false
	}
	p, _ := walk(n, "")
	return p
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// lineOf is the line of the node at a dotted path ("identities[1].role"), 0
// when it is not there.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			name = part[:i]
			idx, _ = strconv.Atoi(strings.TrimSuffix(part[i+1:], "]"))
		}
		if n == nil || n.Kind != yaml.MappingNode {
			return 0
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			return 0
		}
		if idx >= 0 {
			if next.Kind != yaml.SequenceNode || idx >= len(next.Content) {
				return next.Line
			}
			next = next.Content[idx]
		}
		n = next
	}
	if n == nil {
		return 0
	}
	return n.Line
}

func (c *Config) validate(name string, root *yaml.Node) error {
	fail := func(path, format string, args ...any) error {
		return &yamlfile.Error{File: name, Path: path, Reason: fmt.Sprintf(format, args...), Line: lineOf(root, path)}
	}
	if c.Namespace == "" {
		return fail("namespace", "required")
	}
	for r := range c.Roles {
		if !slices.Contains(WorkerRoles, r) {
			return fail("roles."+r, "not a worker role (want one of %s)", strings.Join(WorkerRoles, ", "))
		}
	}
	queues := map[string]string{}
	activities := map[string]string{}
	for _, r := range WorkerRoles {
		rr, ok := c.Roles[r]
		path := "roles." + r
		if !ok {
			return fail("roles", "role %q missing", r)
		}
		if rr.TaskQueue == "" {
			return fail(path+".task_queue", "required")
		}
		if other, dup := queues[rr.TaskQueue]; dup {
			return fail(path+".task_queue", "%q is also the queue of %s", rr.TaskQueue, other)
		}
		queues[rr.TaskQueue] = r
		if len(rr.ActivityTypes) == 0 && r != RoleOrchestrator {
			return fail(path+".activity_types", "required")
		}
		for i, a := range rr.ActivityTypes {
			p := fmt.Sprintf("%s.activity_types[%d]", path, i)
			if a == "" {
				return fail(p, "empty")
			}
			if other, dup := activities[a]; dup {
				return fail(p, "%q is also an activity type of %s", a, other)
			}
			activities[a] = r
		}
		if r == RoleOrchestrator {
			if len(rr.WorkflowTypes) == 0 {
				return fail(path+".workflow_types", "required")
			}
		} else if len(rr.WorkflowTypes) > 0 {
			return fail(path+".workflow_types", "only the orchestrator runs workflows")
		}
		if r != RoleApproval && len(rr.Updates) > 0 {
			return fail(path+".updates", "only the approval role sends updates")
		}
		for i, s := range slices.Concat(rr.WorkflowTypes, rr.Updates) {
			if s == "" {
				return fail(fmt.Sprintf("%s[%d]", path, i), "empty name")
			}
		}
	}
	if len(c.Identities) == 0 {
		return fail("identities", "required")
	}
	names, keys, subjects := map[string]int{}, map[string]int{}, map[string]int{}
	for i, id := range c.Identities {
		path := fmt.Sprintf("identities[%d]", i)
		if !nameRE.MatchString(id.Name) {
			return fail(path+".name", "want a name of letters, digits and ._@:/- (got %q)", id.Name)
		}
		if j, dup := names[id.Name]; dup {
			return fail(path+".name", "%q is also identities[%d]", id.Name, j)
		}
		names[id.Name] = i
		if !slices.Contains(AllRoles, id.Role) {
			return fail(path+".role", "unknown role %q (want one of %s)", id.Role, strings.Join(AllRoles, ", "))
		}
		if id.APIKeySHA256 == "" && id.CertSubject == "" {
			return fail(path, "needs api_key_sha256 or cert_subject")
		}
		if id.APIKeySHA256 != "" {
			if !hexRE.MatchString(id.APIKeySHA256) {
				return fail(path+".api_key_sha256", "want 64 lowercase hex digits (the SHA-256 of the key)")
			}
			if j, dup := keys[id.APIKeySHA256]; dup {
				return fail(path+".api_key_sha256", "same key as identities[%d]", j)
			}
			keys[id.APIKeySHA256] = i
		}
		if id.CertSubject != "" {
			if err := checkSubject(id.CertSubject); err != nil {
				return fail(path+".cert_subject", "%v", err)
			}
			if j, dup := subjects[id.CertSubject]; dup {
				return fail(path+".cert_subject", "same subject as identities[%d]", j)
			}
			subjects[id.CertSubject] = i
		}
	}
	return nil
}

// checkSubject accepts a subject only in the form a client certificate's
// subject is compared in: the string Go's pkix.Name prints, with a CN.
func checkSubject(s string) error {
	if !strings.Contains(s, "CN=") {
		return errors.New("want a subject with a CN, e.g. \"CN=foureyes-build,O=example\"")
	}
	if strings.TrimSpace(s) != s || strings.Contains(s, ", ") {
		return fmt.Errorf("write it as Go prints it, without spaces around commas (got %q)", s)
	}
	return nil
}

// SubjectString is how a certificate subject is compared with cert_subject.
func SubjectString(n *pkix.Name) string { return n.String() }

// HashKey is the api_key_sha256 of an API key.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// QueueOf is the task queue of a worker role.
func (c *Config) QueueOf(role string) string { return c.Roles[role].TaskQueue }

// ActivityOwner is the worker role whose queue runs activity type t.
func (c *Config) ActivityOwner(t string) (string, bool) {
	for _, r := range WorkerRoles {
		if slices.Contains(c.Roles[r].ActivityTypes, t) {
			return r, true
		}
	}
	return "", false
}

// QueueRole is the worker role whose task queue is queue.
func (c *Config) QueueRole(queue string) (string, bool) {
	for role, r := range c.Roles {
		if r.TaskQueue == queue {
			return role, true
		}
	}
	return "", false
}

// RoleOf is the role of the identity named name.
func (c *Config) RoleOf(name string) (string, bool) {
	for _, id := range c.Identities {
		if id.Name == name {
			return id.Role, true
		}
	}
	return "", false
}

// Encode is c as YAML with comment (# lines) on top.
func Encode(c Config, comment string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(comment)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
