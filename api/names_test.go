package api

import (
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"web": true, "prod-eu": true, "0day": true, strings.Repeat("a", 63): true,
		"": false, "-web": false, "Web": false, "prod.eu": false, "prod_eu": false,
		"a/b": false, "..": false, strings.Repeat("a", 64): false, "web ": false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestValidCommit(t *testing.T) {
	full := strings.Repeat("ab", 20)
	for s, want := range map[string]bool{full: true, strings.ToUpper(full): false, full[:39]: false, full + "0": false, "": false} {
		if got := ValidCommit(s); got != want {
			t.Errorf("ValidCommit(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidRevision(t *testing.T) {
	for s, want := range map[string]bool{
		"main": true, "v1.2.3": true, "refs/tags/v1": true, "abc1234": true,
		"-x": false, "a..b": false, "a//b": false, "a/": false, "a.": false, "a.lock": false, "HEAD~1": false, "a:b": false,
	} {
		if got := ValidRevision(s); got != want {
			t.Errorf("ValidRevision(%q) = %v, want %v", s, got, want)
		}
	}
}
