package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/foureyes/foureyes/api"
)

var schemeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// schemes git may fetch a service's repository with. Others (and remote
// helpers, TRANSPORT::ADDRESS, which may run programs) are refused.
var schemes = []string{"https", "http", "ssh", "git", "file"}

// sources checks the services section: names, repositories, build commands.
func (v *validator) sources() error {
	for _, name := range sortedKeys(v.p.Services) {
		base := "services." + name
		if !api.ValidName(name) {
			return v.fail(base, "%q is not a valid service name (%s)", name, api.NameRule)
		}
		s := v.p.Services[name]
		if err := v.repository(base+".repository", s.Repository); err != nil {
			return err
		}
		if err := v.command(base+".build", s.Build); err != nil {
			return err
		}
		if err := v.commitSettings(base, s); err != nil {
			return err
		}
	}
	return nil
}

// repository accepts what git can fetch without running anything but git:
// a URL of a known scheme, user@host:path, or a path.
func (v *validator) repository(path, s string) error {
	switch {
	case s == "" && !v.loc.has(path):
		return v.fail(path, "is required: the service's git repository (URL or path)")
	case s == "":
		return v.fail(path, "must not be empty")
	case !isText(s) || strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return v.fail(path, "must be one word of printable text (a URL or a path)")
	case strings.HasPrefix(s, "-"):
		return v.fail(path, "%q may not start with '-'", s)
	case strings.Contains(s, "::"):
		return v.fail(path, "%q: remote helpers (TRANSPORT::ADDRESS) are not allowed", s)
	}
	if m := schemeRE.FindStringSubmatch(s); m != nil && !slices.Contains(schemes, strings.ToLower(m[1])) {
		return v.fail(path, "unsupported scheme %q (want %s, user@host:path or a path)", m[1], strings.Join(schemes, ", "))
	}
	return nil
}

// command is an optional shell command: any text but NUL, not blank.
func (v *validator) command(path, s string) error {
	switch {
	case s == "":
		return nil
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return v.fail(path, "must be text")
	case strings.TrimSpace(s) == "":
		return v.fail(path, "must not be blank (leave it out for the default build)")
	}
	return nil
}

// oneOf checks an optional setting against its allowed values (the first is the default).
func (v *validator) oneOf(path, s string, values ...string) error {
	if s == "" || slices.Contains(values, s) {
		return nil
	}
	return v.fail(path, "must be %s (got %q; default %s)", strings.Join(values, " or "), s, values[0])
}

// Service is the service named name, if the policy lists it.
func (p *Policy) Service(name string) (Service, bool) {
	s, ok := p.Services[name]
	return s, ok
}

// AllowsUnmapped reports whether env lets emails that map to no identity
// through (unmapped_emails: allow); by default they block approvals.
func (p *Policy) AllowsUnmapped(env string) bool {
	return p.Environments[env].UnmappedEmails == UnmappedAllow
}

// AllowsNoRepository reports whether env takes releases of services the
// policy names no repository for (services_without_repository: allow).
func (p *Policy) AllowsNoRepository(env string) bool {
	return p.Environments[env].ServicesWithoutRepository == NoRepoAllow
}

// IdentityForEmail finds the human whose email or git_emails is email
// (ignoring case). Bots write no commits.
func (p *Policy) IdentityForEmail(email string) (string, bool) {
	if email == "" {
		return "", false
	}
	for _, h := range p.Humans {
		if strings.EqualFold(h.Email, email) {
			return h.ID, true
		}
		for _, e := range h.GitEmails {
			if strings.EqualFold(e, email) {
				return h.ID, true
			}
		}
	}
	return "", false
}

// MapEmails maps commit emails to identities: the identities found (sorted,
// once each) and the emails that map to nobody (sorted, once each).
func (p *Policy) MapEmails(emails []string) (identities, unmapped []string) {
	for _, e := range emails {
		if id, ok := p.IdentityForEmail(e); ok {
			identities = append(identities, id)
		} else {
			unmapped = append(unmapped, e)
		}
	}
	slices.Sort(identities)
	slices.Sort(unmapped)
	return slices.Compact(identities), slices.Compact(unmapped)
}

// checkUnmapped: an approval of a change with a commit by someone the
// policy does not know could be that person's own; fail closed unless the
// environment says otherwise. A "no" is always possible.
func checkUnmapped(p *Policy, c Check, _ GateRule) Verdict {
	if len(c.Unmapped) == 0 || c.Reject || p.AllowsUnmapped(c.Environment) {
		return pass
	}
	verb := "maps"
	if len(c.Unmapped) > 1 {
		verb = "map"
	}
	return refuse(RuleUnmappedEmail, "the change has commits by %s, which %s to no identity of the policy (fail closed: unmapped_emails is block in %s)",
		quoteList(c.Unmapped), verb, c.Environment)
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
