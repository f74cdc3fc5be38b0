package readme

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// A Link is one relative link of a markdown file: its target file (""
// for a link within the file) and anchor, and where it was written.
type Link struct {
	File, Target, Anchor string
	Line                 int
}

var (
	linkRE = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	codeRE = regexp.MustCompile("`[^`]*`")
)

// Links returns the relative links of the markdown file at path (links
// with a scheme, such as https: or mailto:, are left out; so is what
// code blocks and code spans hold), targets resolved against its folder.
func Links(path string) ([]Link, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Link
	in := false
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			continue
		}
		if in {
			continue
		}
		for _, m := range linkRE.FindAllStringSubmatch(codeRE.ReplaceAllString(line, ""), -1) {
			target := m[1]
			if i := strings.Index(target, ":"); i > 0 && !strings.ContainsAny(target[:i], "/#.") {
				continue
			}
			l := Link{File: path, Line: n}
			target, l.Anchor, _ = strings.Cut(target, "#")
			if target != "" {
				l.Target = filepath.Join(filepath.Dir(path), filepath.FromSlash(target))
			}
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// Anchors returns the anchors GitHub gives the headings of the markdown
// file at path: lower case, punctuation dropped, spaces as hyphens, a
// repeated one with -1, -2, ….
func Anchors(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
		}
		if in || !strings.HasPrefix(line, "#") {
			continue
		}
		a := Slug(strings.TrimLeft(line, "#"))
		for i, s := 1, a; ; i++ {
			if !out[s] {
				out[s] = true
				break
			}
			s = fmt.Sprintf("%s-%d", a, i)
		}
	}
	return out, nil
}

// Slug is a heading's anchor as GitHub makes it.
func Slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// CheckLinks checks every relative link of the markdown files: its
// target exists and, for a markdown file, has the heading its anchor
// names. It returns one line per broken link, "FILE:LINE: why".
func CheckLinks(files []string) ([]string, error) {
	var broken []string
	anchors := map[string]map[string]bool{}
	for _, f := range files {
		links, err := Links(f)
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			target := l.Target
			if target == "" {
				target = l.File
			}
			if _, err := os.Stat(target); err != nil {
				broken = append(broken, fmt.Sprintf("%s:%d: %s does not exist", l.File, l.Line, target))
				continue
			}
			if l.Anchor == "" || !strings.HasSuffix(target, ".md") {
				continue
			}
			if anchors[target] == nil {
				if anchors[target], err = Anchors(target); err != nil {
					return nil, err
				}
			}
			if !anchors[target][l.Anchor] {
				broken = append(broken, fmt.Sprintf("%s:%d: %s has no heading #%s", l.File, l.Line, target, l.Anchor))
			}
		}
	}
	return broken, nil
}
