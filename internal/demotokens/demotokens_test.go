package demotokens

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadRepositoryFile(t *testing.T) {
	tokens, err := Read(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"alice", "bob", "carol", "dave", "erin", "rita", "ci-bot"} {
		if tok, err := Get(tokens, id); err != nil || !strings.HasPrefix(tok, "fe_demo_") {
			t.Errorf("%s: token %q, %v", id, tok, err)
		}
	}
	if _, err := Get(tokens, "mallory"); err == nil || !strings.Contains(err.Error(), "FOUREYES_DEMO_TOKEN_MALLORY") {
		t.Errorf("a missing identity: %v", err)
	}
}

func TestReadRefusesOtherLines(t *testing.T) {
	for _, bad := range []string{"OTHER=x", "FOUREYES_DEMO_TOKEN_BOB", "FOUREYES_DEMO_TOKEN_BOB=", "FOUREYES_DEMO_TOKEN_=x"} {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Dir(Path(root)), 0o755); err != nil {
			t.Fatal(err)
		}
		data := "# comment\n\nFOUREYES_DEMO_TOKEN_CI_BOT=a\n" + bad + "\n"
		if err := os.WriteFile(Path(root), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(root); err == nil || !strings.Contains(err.Error(), ":4:") {
			t.Errorf("%q: want an error naming line 4, got %v", bad, err)
		}
	}
}

func TestVar(t *testing.T) {
	if got := Var("ci-bot"); got != "FOUREYES_DEMO_TOKEN_CI_BOT" {
		t.Errorf("Var(ci-bot) = %s", got)
	}
}
