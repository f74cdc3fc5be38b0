// Package yamlfile decodes foureyes' YAML files strictly: exactly one
// document, and errors that name the file, the field path and the line,
// "FILE: field.path: reason (line N)". The policy and the server's
// authorization file are read with it.
package yamlfile

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a file error: "FILE: field.path: reason (line N)".
type Error struct {
	File   string
	Path   string // field path, e.g. environments.prod.gates.approval.quorum
	Line   int    // 0 when unknown
	Reason string
}

func (e *Error) Error() string {
	s := e.File + ": "
	if e.Path != "" {
		s += e.Path + ": "
	}
	s += e.Reason
	if e.Line > 0 {
		s += " (line " + strconv.Itoa(e.Line) + ")"
	}
	return s
}

// Document parses data as exactly one YAML document (its document node);
// name is the file in errors and syntax the prefix of a syntax error's
// reason (Translate).
func Document(name string, data []byte, syntax string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Reason: "empty document"}
		}
		return nil, Translate(name, err, syntax, nil)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, Translate(name, err, syntax, nil)
		}
		return nil, &Error{File: name, Line: extra.Line, Reason: "more than one document"}
	}
	return &doc, nil
}

var (
	lineMsgRE   = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownRE   = regexp.MustCompile(`^field (\S*) not found in type \S+$`)
	duplicateRE = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
)

// Translate turns a yaml.v3 error ("line N: msg") into an *Error naming
// the field at that line; only the first error is kept. A syntax error's
// reason starts with syntax (a type error's never does); pathAt names the
// field written on a line, the one whose key is key if given (nil: no
// path).
func Translate(name string, err error, syntax string, pathAt func(line int, key string) string) error {
	msg, prefix := err.Error(), syntax
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg, prefix = te.Errors[0], ""
	}
	m := lineMsgRE.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: name, Reason: strings.TrimPrefix(msg, "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	e := &Error{File: name, Line: line, Reason: prefix + m[2]}
	key := ""
	if k := unknownRE.FindStringSubmatch(m[2]); k != nil {
		key, e.Reason = k[1], "unknown field"
	} else if k := duplicateRE.FindStringSubmatch(m[2]); k != nil {
		key, e.Reason = k[1], "duplicate key (first at line "+k[2]+")"
	}
	if pathAt != nil {
		e.Path = pathAt(line, key)
	}
	return e
}
