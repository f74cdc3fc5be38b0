package devstack

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadEnvFile(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
		wantErr    string
	}{
		{"empty", "", nil, ""},
		{"comments and blanks", "# c\n\n  # indented\nA=1\n", []string{"A=1"}, ""},
		{"spaces trimmed", "  B = two words  \n", []string{"B=two words"}, ""},
		{"empty value", "C=\n", []string{"C="}, ""},
		{"equals in value", "D=a=b\n", []string{"D=a=b"}, ""},
		{"quotes", "E=\"x y\"\nF='z'\n", []string{"E=x y", "F=z"}, ""},
		{"export prefix", "export G=1\n", []string{"G=1"}, ""},
		{"hash inside value", "H=a#b\n", []string{"H=a#b"}, ""},
		{"no equals", "A=1\nNOPE\n", nil, ":2: expected KEY=VALUE"},
		{"bad name", "1X=2\n", nil, `:1: invalid variable name "1X"`},
		{"bad char", "A-B=2\n", nil, `invalid variable name "A-B"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "role.env")
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := ReadEnvFile(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s and %q", err, path, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestReadEnvFileMissing(t *testing.T) {
	if _, err := ReadEnvFile(filepath.Join(t.TempDir(), "nope.env")); err == nil || !strings.Contains(err.Error(), "nope.env") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}

func TestSetEnvLookupEnv(t *testing.T) {
	env := SetEnv([]string{"A=1", "B=2", "A=3"}, "A", "9")
	if want := []string{"B=2", "A=9"}; !reflect.DeepEqual(env, want) {
		t.Fatalf("SetEnv = %q, want %q", env, want)
	}
	if v, ok := LookupEnv(env, "A"); !ok || v != "9" {
		t.Fatalf("LookupEnv(A) = %q, %v", v, ok)
	}
	if _, ok := LookupEnv(env, "C"); ok {
		t.Fatal("LookupEnv(C) found")
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "devstack", "devstack.go")); err != nil {
		t.Fatalf("RepoRoot = %s: %v", root, err)
	}
}

func TestFreePort(t *testing.T) {
	p, err := FreePort()
	if err != nil || p <= 0 {
		t.Fatalf("FreePort = %d, %v", p, err)
	}
}

// TestFreePortNeverRepeats: the kernel hands out closed probe ports again
// (a few in a thousand probes); FreePort must not.
func TestFreePortNeverRepeats(t *testing.T) {
	seen := map[int]bool{}
	for range 1000 {
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("FreePort returned %d twice", p)
		}
		seen[p] = true
	}
}

func TestEnsureTemporalCLIOverride(t *testing.T) {
	t.Setenv(TemporalCLIEnv, "/nonexistent/temporal")
	if _, err := EnsureTemporalCLI(t.TempDir(), os.Stderr); err == nil || !strings.Contains(err.Error(), TemporalCLIEnv) {
		t.Fatalf("err = %v, want one naming %s", err, TemporalCLIEnv)
	}
}
