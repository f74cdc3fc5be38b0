package main

import (
	"strings"
	"testing"

	"github.com/foureyes/foureyes/workflows"
)

// TestComposeRegistersSearchAttributes: the admin tools register every
// search attribute the Release workflow upserts, with its type.
func TestComposeRegistersSearchAttributes(t *testing.T) {
	script := strings.Join(loadCompose(t)["temporal-admin-tools"].Command, "\n")
	commands := strings.Split(strings.ReplaceAll(script, "\\\n", " "), "\n")
	for _, nameType := range workflows.SearchAttributes {
		name, typ, _ := strings.Cut(nameType, "=")
		found := false
		for _, c := range commands {
			args := strings.Fields(c)
			found = found || strings.Contains(c, "search-attribute create") &&
				strings.Contains(" "+strings.Join(args, " ")+" ", " --name "+name+" ") &&
				strings.Contains(" "+strings.Join(args, " ")+" ", " --type "+typ+" ")
		}
		if !found {
			t.Errorf("docker-compose.yml: temporal-admin-tools does not register %s as %s", name, typ)
		}
	}
}
