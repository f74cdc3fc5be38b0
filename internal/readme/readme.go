// Package readme reads the commands of the README's shell code blocks, so
// that tests run what a reader would copy instead of a copy of it.
package readme

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Commands returns the commands of the shell code blocks under the README
// heading section ("" for the blocks before the first heading), one per
// line, without comments; a line of `a && b` gives two commands.
func Commands(path, section string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	heading, in, found := "", false, section == ""
	for sc := bufio.NewScanner(strings.NewReader(string(data))); sc.Scan(); {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "```"):
			in = !in && line == "```sh"
		case in && heading == section:
			out = append(out, commandsOf(line)...)
		case !in && strings.HasPrefix(line, "## "):
			heading = strings.TrimPrefix(line, "## ")
			found = found || heading == section
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: no section %q", path, section)
	}
	return out, nil
}

// Marked reports whether the README says of command that it is not run
// here, and why: a line holding the command and "not run here:".
func Marked(path, command string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, command) && strings.Contains(line, "not run here: ") {
			return true
		}
	}
	return false
}

// commandsOf splits one line of a block into its commands. A `#` starts a
// comment only at the start of a word (not inside quotes in practice here).
func commandsOf(line string) []string {
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	if strings.HasPrefix(line, "#") {
		return nil
	}
	var out []string
	for _, c := range strings.Split(line, "&&") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}
