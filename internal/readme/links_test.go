package readme

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDocLinks: every relative link of the README, docs/*.md and the
// server's README points to a file that exists and, with an anchor, to a
// heading that file has.
func TestDocLinks(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(docs) < 5 {
		t.Fatalf("docs/*.md: %q, %v", docs, err)
	}
	files := append([]string{filepath.Join(root, "README.md"), filepath.Join(root, "temporal-server", "README.md")}, docs...)
	broken, err := CheckLinks(files)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range broken {
		rel, _ := filepath.Rel(root, b)
		t.Error(rel)
	}
}

// TestCheckLinksCatchesDrift: a missing file, a missing heading and a
// link within the file to a missing heading are each caught; code,
// URLs and good links are not.
func TestCheckLinksCatchesDrift(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("b.md", "# B\n## Payload encryption (issue 28)\n## Step, by `step`\n## Step, by step\n")
	a := write("a.md", "# A\n## Here\n"+
		"[ok](b.md) [ok](b.md#payload-encryption-issue-28) [ok](b.md#step-by-step-1) [ok](#here) [web](https://x.org/y.md)\n"+
		"`[code](nope.md)`\n```sh\n[block](nope.md)\n```\n"+
		"[gone](c.md) [no heading](b.md#nowhere) [no heading here](#there)\n")
	broken, err := CheckLinks([]string{a})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"c.md does not exist", "has no heading #nowhere", "has no heading #there"}
	if len(broken) != len(want) {
		t.Fatalf("broken = %q, want %d", broken, len(want))
	}
	for i, w := range want {
		if !strings.Contains(broken[i], w) || !strings.HasPrefix(broken[i], a+":8:") {
			t.Errorf("broken[%d] = %q, want %q on line 8", i, broken[i], w)
		}
	}
	if got := Slug(" Who holds which key"); got != "who-holds-which-key" {
		t.Errorf("Slug = %q", got)
	}
	if !slices.Contains([]string{Slug("Promotions and emergencies (`GetVersion(\"promotions\")`)")}, "promotions-and-emergencies-getversionpromotions") {
		t.Error("Slug drops backticks, quotes and parentheses")
	}
}
