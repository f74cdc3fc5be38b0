package policy

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// locator maps field paths ("humans[2].id") to the yaml lines they were
// written on, so that errors can name both.
type locator struct {
	lines   map[string]int // path -> first line
	entries []locEntry     // in document order
}

type locEntry struct {
	line int
	path string
	key  string // mapping key written on this line, if any
}

func newLocator(root *yaml.Node) *locator {
	l := &locator{lines: map[string]int{}}
	l.walk(root, "")
	return l
}

func (l *locator) add(line int, path, key string) {
	if _, ok := l.lines[path]; !ok {
		l.lines[path] = line
	}
	l.entries = append(l.entries, locEntry{line: line, path: path, key: key})
}

// walk records every key and item; aliases are not followed (their lines
// belong to the anchor, and following them could blow up).
func (l *locator) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinPath(path, k.Value)
			l.add(k.Line, p, k.Value)
			if v.Line != k.Line {
				l.add(v.Line, p, "")
			}
			l.walk(v, p)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			l.add(item.Line, p, "")
			l.walk(item, p)
		}
	}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// has reports whether path was written in the file.
func (l *locator) has(path string) bool {
	_, ok := l.lines[path]
	return ok
}

// line is the line of path, or of its nearest written ancestor; 0 if none.
func (l *locator) line(path string) int {
	for path != "" {
		if n, ok := l.lines[path]; ok {
			return n
		}
		path = parentPath(path)
	}
	return 0
}

func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// pathAt names the field at a line: the entry whose key is key if given,
// else the deepest path written on that line.
func (l *locator) pathAt(line int, key string) string {
	best := ""
	for _, e := range l.entries {
		if e.line != line {
			continue
		}
		if key != "" && e.key == key {
			return e.path
		}
		if len(e.path) > len(best) {
			best = e.path
		}
	}
	return best
}
