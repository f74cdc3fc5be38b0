package workflows

import (
	"fmt"
	"strings"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/policy"
)

// How a release's change is shown: in its audit entries, its status, its
// details and its notices.

// describe is the audit detail of the attested source.
func (s *source) describe(pol *policy.Policy, env string) string {
	c := s.change
	if c == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "; commit %s (%s) of %s; change: %s", s.commit, s.ref, s.repo, countCommits(c.CommitCount))
	switch {
	case c.Base == "":
		b.WriteString(", nothing deployed before (the commit alone)")
	case !c.BaseIsAncestor:
		fmt.Fprintf(&b, " since %s (release %s), which is not an ancestor: every commit since their merge base", shortCommit(c.Base), c.BaseRelease)
	default:
		fmt.Fprintf(&b, " since %s (release %s)", shortCommit(c.Base), c.BaseRelease)
	}
	fmt.Fprintf(&b, "; authors from git: %s", orNone(strings.Join(s.mapped, ", ")))
	if len(s.unmapped) > 0 {
		fmt.Fprintf(&b, "; emails that map to nobody: %s", strings.Join(s.unmapped, ", "))
		if !pol.AllowsUnmapped(env) {
			b.WriteString(" (they block every approval)")
		}
	}
	return b.String()
}

func countCommits(n int) string {
	if n == 1 {
		return "1 commit"
	}
	return fmt.Sprintf("%d commits", n)
}

// commitLines are the change's first n commits as people are shown them.
func (s *source) commitLines(pol *policy.Policy, n int) []api.CommitLine {
	c := s.change
	if c == nil {
		return nil
	}
	var out []api.CommitLine
	for _, k := range c.Commits[:min(n, len(c.Commits))] {
		who := k.Author
		if id, ok := pol.IdentityForEmail(k.Author); ok {
			who = id
		}
		out = append(out, api.CommitLine{Short: shortCommit(k.SHA), Subject: k.Subject, Author: who, Proof: k.Proof()})
	}
	return out
}

// view is the change as the status query shows it (at most 20 commits).
func (s *source) view() *api.Change {
	c := s.change
	if c == nil {
		return nil
	}
	return &api.Change{Repository: s.repo, Ref: s.ref, Base: c.Base, BaseRelease: c.BaseRelease,
		BaseIsAncestor: c.BaseIsAncestor, Commits: c.Commits[:min(20, len(c.Commits))], CommitCount: c.CommitCount,
		Authors: s.mapped, Unmapped: s.unmapped, Baseline: c.Baseline, Signers: c.Signers, Unproven: c.Unproven}
}

// line lists the change's commits in the details (short SHA, subject,
// author), the first five, and the emails that map to nobody; "" before
// the build attested it.
func (s *source) line(pol *policy.Policy) string {
	c := s.change
	if c == nil {
		return ""
	}
	var parts []string
	for _, l := range s.commitLines(pol, 5) {
		parts = append(parts, "`"+l.Short+"` "+strings.TrimPrefix(l.Line(), l.Short+" "))
	}
	if more := c.CommitCount - len(parts); more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	line := fmt.Sprintf("- Change @ `%s`: %s\n", shortCommit(s.commit), strings.Join(parts, "; "))
	if len(s.unmapped) > 0 {
		line += fmt.Sprintf("- Unmapped emails: %s\n", strings.Join(s.unmapped, ", "))
	}
	return line
}
