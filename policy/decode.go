package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/foureyes/foureyes/formats/yamlfile"
)

// Load reads, strictly decodes and validates the policy file at path. It
// returns the policy and the hex SHA-256 of the file's bytes.
func Load(path string) (*Policy, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read policy: %w", err)
	}
	p, err := Parse(path, data)
	if err != nil {
		return nil, "", err
	}
	return p, HashBytes(data), nil
}

// Parse strictly decodes and validates a policy (YAML or JSON: JSON is YAML).
// name is used in error messages.
func Parse(name string, data []byte) (*Policy, error) {
	root, err := decodeNode(name, data)
	if err != nil {
		return nil, err
	}
	loc := newLocator(root)
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, yamlfile.Translate(name, err, syntaxError, loc.pathAt)
	}
	normalize(&p)
	if err := validate(name, loc, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// HashBytes is the hex SHA-256 of data: the policy hash pinned into a release.
func HashBytes(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// syntaxError starts the reason of a policy's YAML syntax error.
const syntaxError = "syntax error: "

// decodeNode parses exactly one YAML document whose root is a mapping.
func decodeNode(name string, data []byte) (*yaml.Node, error) {
	doc, err := yamlfile.Document(name, data, syntaxError)
	if err != nil {
		return nil, err
	}
	root := doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: root.Line, Reason: "document must be a mapping of policy fields"}
	}
	return root, nil
}

// normalize makes decoded values canonical so that the policy survives a JSON
// round trip unchanged: empty lists become nil, times become UTC.
func normalize(p *Policy) {
	p.Humans = nilIfEmpty(p.Humans)
	p.Bots = nilIfEmpty(p.Bots)
	p.ServiceIdentities = nilIfEmpty(p.ServiceIdentities)
	p.ReleaseManagers = nilIfEmpty(p.ReleaseManagers)
	for i := range p.Humans {
		p.Humans[i].Groups = nilIfEmpty(p.Humans[i].Groups)
		p.Humans[i].GitEmails = nilIfEmpty(p.Humans[i].GitEmails)
	}
	if len(p.Services) == 0 {
		p.Services = nil
	}
	for i := range p.Bots {
		p.Bots[i].Gates = nilIfEmpty(p.Bots[i].Gates)
		p.Bots[i].Groups = nilIfEmpty(p.Bots[i].Groups)
	}
	for _, env := range p.Environments {
		for g, r := range env.Gates {
			env.Gates[g] = normalizeRule(r)
		}
	}
}

func normalizeRule(r GateRule) GateRule {
	r.Groups = nilIfEmpty(r.Groups)
	r.Identities = nilIfEmpty(r.Identities)
	r.Freeze = nilIfEmpty(r.Freeze)
	for i := range r.Freeze {
		r.Freeze[i].Start = r.Freeze[i].Start.UTC()
		r.Freeze[i].End = r.Freeze[i].End.UTC()
	}
	return r
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// MarshalJSON writes the duration as a Go duration string ("24h0m0s").
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"24h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration must be like \"24h\": %w", err)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML reads a Go duration string. Errors are yaml TypeErrors so
// that they keep their line number.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return lineError(n, "must be a duration like \"24h\"")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return lineError(n, fmt.Sprintf("must be a duration like \"24h\", got %q", n.Value))
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Std is the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String is the Go duration string, e.g. "24h0m0s".
func (d Duration) String() string { return time.Duration(d).String() }

func lineError(n *yaml.Node, reason string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, reason)}}
}

// UnmarshalYAML decodes a freeze window strictly. It exists so that a bad
// time names its line instead of failing with a bare parse error.
func (w *Window) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return lineError(n, "freeze window must be a mapping with start, end and reason")
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if first, dup := seen[k.Value]; dup {
			return lineError(k, fmt.Sprintf("mapping key %q already defined at line %d", k.Value, first))
		}
		seen[k.Value] = k.Line
		if err := w.setField(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (w *Window) setField(k, v *yaml.Node) error {
	switch k.Value {
	case "start":
		return decodeTime(v, &w.Start)
	case "end":
		return decodeTime(v, &w.End)
	case "reason":
		if v.Kind != yaml.ScalarNode {
			return lineError(v, "must be text")
		}
		return v.Decode(&w.Reason)
	}
	return lineError(k, fmt.Sprintf("field %s not found in type policy.Window", k.Value))
}

// resolve follows an alias to its anchored node.
func resolve(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// decodeTime accepts YAML timestamps, and quoted RFC 3339 times or dates.
func decodeTime(v *yaml.Node, t *time.Time) error {
	if v.Kind == yaml.ScalarNode {
		if err := v.Decode(t); err == nil {
			return nil
		}
		if d, err := time.Parse(time.DateOnly, v.Value); err == nil {
			*t = d
			return nil
		}
	}
	return lineError(v, fmt.Sprintf("must be a time like 2025-12-24T00:00:00Z, got %q", v.Value))
}
