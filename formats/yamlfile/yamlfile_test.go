package yamlfile

import (
	"bytes"
	"errors"
	"testing"

	"gopkg.in/yaml.v3"
)

// Every error names the file, and the field and line when it knows them.
func TestErrors(t *testing.T) {
	if got := (&Error{File: "f.yaml", Path: "a.b", Line: 3, Reason: "bad"}).Error(); got != "f.yaml: a.b: bad (line 3)" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&Error{File: "f.yaml", Reason: "empty document"}).Error(); got != "f.yaml: empty document" {
		t.Errorf("Error() = %q", got)
	}
	for doc, want := range map[string]string{
		"":                  "f.yaml: empty document",
		"a: 1\n---\nb: 2\n": "f.yaml: more than one document (line 2)",
		"a: [1\n":           "f.yaml: syntax error: ",
	} {
		_, err := Document("f.yaml", []byte(doc), "syntax error: ")
		var e *Error
		if !errors.As(err, &e) || len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
			t.Errorf("Document(%q) = %v, want %q…", doc, err, want)
		}
	}
	var v named
	dec := yaml.NewDecoder(bytes.NewReader([]byte("a: 1\nb: 2\n")))
	dec.KnownFields(true)
	err := Translate("f.yaml", dec.Decode(&v), "syntax error: ", func(line int, key string) string { return "root." + key })
	if err == nil || err.Error() != "f.yaml: root.b: unknown field (line 2)" {
		t.Errorf("Translate = %v", err)
	}
}

type named struct {
	A int `yaml:"a"`
}
