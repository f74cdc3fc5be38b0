// Package serverconfig is the authorization file of foureyes' Temporal
// server (temporal-server/README.md, its own module, which decodes it
// strictly at start): the stack writes it, and auditors read it to know
// which identity holds which role. It holds key hashes and certificate
// subjects, never a secret.
package serverconfig

import (
	"bytes"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// Config mirrors temporal-server's internal/authz.Config.
type Config struct {
	Namespace  string          `yaml:"namespace"`
	Roles      map[string]Rule `yaml:"roles"`
	Identities []Identity      `yaml:"identities"`
}

// Rule is a worker role's queue and what runs there.
type Rule struct {
	TaskQueue     string   `yaml:"task_queue"`
	ActivityTypes []string `yaml:"activity_types,flow"`
	WorkflowTypes []string `yaml:"workflow_types,flow,omitempty"`
	Updates       []string `yaml:"updates,flow,omitempty"`
}

// Identity is one caller with its role and credential.
type Identity struct {
	Name         string `yaml:"name"`
	Role         string `yaml:"role"`
	APIKeySHA256 string `yaml:"api_key_sha256,omitempty"`
	CertSubject  string `yaml:"cert_subject,omitempty"`
}

// Roles the server knows besides the worker roles.
const (
	RoleReleaseManager = "release-manager"
	RoleOperator       = "operator"
	RoleAdmin          = "admin"
)

// Load reads path, refusing unknown fields: "FILE: reason".
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(c.Identities) == 0 || len(c.Roles) == 0 {
		return nil, fmt.Errorf("%s: no identities or no roles: not a temporal-server authorization file", path)
	}
	return &c, nil
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

// QueueRole is the worker role whose task queue is queue.
func (c *Config) QueueRole(queue string) (string, bool) {
	for role, r := range c.Roles {
		if r.TaskQueue == queue {
			return role, true
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
