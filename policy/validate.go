package policy

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/foureyes/foureyes/api"
)

var (
	// Identities are lowercase so that "Alice" can never pass for someone
	// other than "alice" in a separation check. (Services and environments
	// follow the contract's stricter api.ValidName.)
	nameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	hashRE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	slackRE = regexp.MustCompile(`^[UW][A-Z0-9]{2,31}$`)
)

// validator checks a decoded policy; the first problem found stops it.
type validator struct {
	file    string
	loc     *locator
	p       *Policy
	ids     map[string]string   // identity -> "human" or "bot"
	members map[string][]string // group -> identities, in file order
	tokens  map[string]string   // token hash -> identity
	slack   map[string]string   // Slack user id -> identity
	emails  map[string]string   // lowercase email -> identity
	// personal maps each person's own key (SSH fingerprint, passkey
	// credential id) to its identity.
	personal map[string]string
}

func validate(file string, loc *locator, p *Policy) error {
	v := &validator{file: file, loc: loc, p: p, ids: map[string]string{},
		members: map[string][]string{}, tokens: map[string]string{}, slack: map[string]string{},
		emails: map[string]string{}}
	steps := []func() error{v.version, v.services, v.humans, v.bots, v.releaseManagers, v.sources,
		v.environments, v.keys}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) fail(path, format string, args ...any) error {
	return &Error{File: v.file, Path: path, Line: v.loc.line(path), Reason: fmt.Sprintf(format, args...)}
}

func (v *validator) version() error {
	if v.p.Version == 0 {
		return v.fail("version", "is required (version: 1)")
	}
	if v.p.Version != 1 {
		return v.fail("version", "must be 1, got %d", v.p.Version)
	}
	return nil
}

func (v *validator) services() error {
	if len(v.p.ServiceIdentities) == 0 {
		return v.fail("service_identities", "is required: list the identities of foureyes' own workers")
	}
	return v.names("service_identities", v.p.ServiceIdentities, "service identity")
}

// names checks a list of names: each valid, none twice.
func (v *validator) names(path string, list []string, what string) error {
	for i, s := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		if err := v.name(p, s); err != nil {
			return err
		}
		if slices.Index(list, s) < i {
			return v.fail(p, "duplicate %s %q", what, s)
		}
	}
	return nil
}

func (v *validator) name(path, s string) error {
	if s == "" {
		return v.fail(path, "is required")
	}
	if !nameRE.MatchString(s) {
		return v.fail(path, "%q is not a valid name (lowercase letters, digits, '.', '_', '-'; at most 64)", s)
	}
	return nil
}

// identity registers a human or bot id, unique across both.
func (v *validator) identity(path, id, kind string) error {
	if err := v.name(path, id); err != nil {
		return err
	}
	if slices.Contains(v.p.ServiceIdentities, id) {
		return v.fail(path, "identity %q is a service identity; service identities may never sign", id)
	}
	if _, dup := v.ids[id]; dup {
		return v.fail(path, "duplicate identity %q", id)
	}
	v.ids[id] = kind
	return nil
}

// groups registers the memberships of one identity.
func (v *validator) groups(path, id string, groups []string) error {
	if err := v.names(path, groups, "group"); err != nil {
		return err
	}
	for _, g := range groups {
		v.members[g] = append(v.members[g], id)
	}
	return nil
}

func (v *validator) token(path, id, hash string, required bool) error {
	if hash == "" {
		if required {
			return v.fail(path, "is required")
		}
		return nil
	}
	if !hashRE.MatchString(hash) {
		return v.fail(path, "must be the token's SHA-256 as 64 lowercase hex digits")
	}
	if other, dup := v.tokens[hash]; dup {
		return v.fail(path, "token hash already used by %q", other)
	}
	v.tokens[hash] = id
	return nil
}

func (v *validator) humans() error {
	for i, h := range v.p.Humans {
		if err := v.human(fmt.Sprintf("humans[%d]", i), h); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) human(base string, h Human) error {
	if err := v.identity(base+".id", h.ID, "human"); err != nil {
		return err
	}
	if err := v.ownEmail(base+".email", h.ID, h.Email); err != nil {
		return err
	}
	for i, e := range h.GitEmails {
		if err := v.ownEmail(fmt.Sprintf("%s.git_emails[%d]", base, i), h.ID, e); err != nil {
			return err
		}
	}
	if err := v.slackID(base+".slack", h.ID, h.Slack); err != nil {
		return err
	}
	if err := v.groups(base+".groups", h.ID, h.Groups); err != nil {
		return err
	}
	if err := v.personKeys(base, h.ID, h.SSH, h.WebAuthn); err != nil {
		return err
	}
	return v.token(base+".token_sha256", h.ID, h.TokenSHA256, false)
}

func (v *validator) email(path, s string) error {
	if s == "" {
		return v.fail(path, "is required")
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") ||
		strings.IndexFunc(s, unicode.IsSpace) >= 0 || !isText(s) {
		return v.fail(path, "%q is not an email address", s)
	}
	return nil
}

// ownEmail registers an address commits are mapped by: one identity each.
func (v *validator) ownEmail(path, id, s string) error {
	if err := v.email(path, s); err != nil {
		return err
	}
	key := strings.ToLower(s)
	if other, dup := v.emails[key]; dup {
		return v.fail(path, "email %q already belongs to %q: commits must map to one identity", s, other)
	}
	v.emails[key] = id
	return nil
}

func (v *validator) slackID(path, id, s string) error {
	if s == "" {
		return nil
	}
	if !slackRE.MatchString(s) {
		return v.fail(path, "%q is not a Slack user id (like U012AB3CD)", s)
	}
	if other, dup := v.slack[s]; dup {
		return v.fail(path, "Slack user %s already belongs to %q", s, other)
	}
	v.slack[s] = id
	return nil
}

func (v *validator) bots() error {
	for i, b := range v.p.Bots {
		if err := v.bot(fmt.Sprintf("bots[%d]", i), b); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) bot(base string, b Bot) error {
	if err := v.identity(base+".id", b.ID, "bot"); err != nil {
		return err
	}
	if err := v.token(base+".token_sha256", b.ID, b.TokenSHA256, true); err != nil {
		return err
	}
	if len(b.Gates) == 0 {
		return v.fail(base+".gates", "is required: list the gates the bot may answer")
	}
	for i, g := range b.Gates {
		p := fmt.Sprintf("%s.gates[%d]", base, i)
		if !slices.Contains(Gates, g) {
			return v.fail(p, "unknown gate %q (want %s)", g, strings.Join(Gates, " or "))
		}
		if slices.Index(b.Gates, g) < i {
			return v.fail(p, "duplicate gate %q", g)
		}
	}
	if err := v.personKeys(base, b.ID, b.SSH, nil); err != nil {
		return err
	}
	return v.groups(base+".groups", b.ID, b.Groups)
}

func (v *validator) releaseManagers() error {
	if err := v.names("release_managers", v.p.ReleaseManagers, "group"); err != nil {
		return err
	}
	for i, g := range v.p.ReleaseManagers {
		if err := v.knownGroup(fmt.Sprintf("release_managers[%d]", i), g); err != nil {
			return err
		}
	}
	return nil
}

// knownGroup: groups exist by membership only.
func (v *validator) knownGroup(path, g string) error {
	if len(v.members[g]) == 0 {
		return v.fail(path, "unknown group %q: no human or bot is a member", g)
	}
	return nil
}

func (v *validator) environments() error {
	if len(v.p.Environments) == 0 {
		return v.fail("environments", "at least one environment is required")
	}
	for _, name := range sortedKeys(v.p.Environments) {
		if err := v.environment(name, v.p.Environments[name]); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) environment(name string, env Environment) error {
	base := "environments." + name
	if !api.ValidName(name) {
		return v.fail(base, "%q is not a valid environment name (%s)", name, api.NameRule)
	}
	if err := v.oneOf(base+".unmapped_emails", env.UnmappedEmails, UnmappedBlock, UnmappedAllow); err != nil {
		return err
	}
	if err := v.oneOf(base+".services_without_repository", env.ServicesWithoutRepository, NoRepoRefuse, NoRepoAllow); err != nil {
		return err
	}
	if err := v.oneOf(base+".request_proof", env.RequestProof, ProofGateway, ProofRequester); err != nil {
		return err
	}
	if err := v.oneOf(base+".commits", env.Commits, CommitsAny, CommitsSigned); err != nil {
		return err
	}
	for _, g := range sortedKeys(env.Gates) {
		if !slices.Contains(Gates, g) {
			return v.fail(base+".gates."+g, "unknown gate %q (want %s)", g, strings.Join(Gates, " or "))
		}
	}
	if err := v.promotion(name, env); err != nil {
		return err
	}
	for _, g := range Gates {
		r, ok := env.Gates[g]
		if !ok {
			return v.fail(base+".gates."+g, "is required: every environment needs a %s and an %s gate", GateReview, GateApproval)
		}
		if err := v.rule(base+".gates."+g, g, r); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (v *validator) rule(path, gate string, r GateRule) error {
	if len(r.Groups) == 0 && len(r.Identities) == 0 {
		return v.fail(path, "needs at least one group or identity who may sign")
	}
	steps := []func() error{
		func() error { return v.ruleGroups(path+".groups", r.Groups) },
		func() error { return v.ruleIdentities(path+".identities", r.Identities) },
		func() error { return v.quorum(path+".quorum", gate, r) },
		func() error { return v.deadline(path+".deadline", r.Deadline) },
		func() error { return v.freeze(path+".freeze", r.Freeze) },
		func() error { return v.text(path+".slack_channel", r.SlackChannel, false) },
		func() error { return v.oneOf(path+".proof", r.Proof, ProofGateway, ProofApprover) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) ruleGroups(path string, groups []string) error {
	if err := v.names(path, groups, "group"); err != nil {
		return err
	}
	for i, g := range groups {
		if err := v.knownGroup(fmt.Sprintf("%s[%d]", path, i), g); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) ruleIdentities(path string, ids []string) error {
	if err := v.names(path, ids, "identity"); err != nil {
		return err
	}
	for i, id := range ids {
		if _, ok := v.ids[id]; !ok {
			return v.fail(fmt.Sprintf("%s[%d]", path, i), "unknown identity %q", id)
		}
	}
	return nil
}

// quorum must be reachable: a gate nobody can pass is a policy bug.
func (v *validator) quorum(path, gate string, r GateRule) error {
	if r.Quorum < 1 {
		return v.fail(path, "must be at least 1")
	}
	if who := v.p.signers(gate, r); r.Quorum > len(who) {
		return v.fail(path, "quorum %d but only %d identities may sign (%s)", r.Quorum, len(who), strings.Join(who, ", "))
	}
	return nil
}

// deadline is required: a gate without one would expire at once. Whether
// the field was written only changes the wording (aliases hide it).
func (v *validator) deadline(path string, d Duration) error {
	if d == 0 && !v.loc.has(path) {
		return v.fail(path, "is required (how long the gate stays open, e.g. 24h)")
	}
	if d <= 0 {
		return v.fail(path, "must be positive, got %s", d)
	}
	return nil
}

func (v *validator) freeze(path string, windows []Window) error {
	for i, w := range windows {
		if err := v.window(fmt.Sprintf("%s[%d]", path, i), w); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) window(path string, w Window) error {
	switch {
	case w.Start.IsZero():
		return v.fail(path+".start", "is required")
	case w.End.IsZero():
		return v.fail(path+".end", "is required")
	case !inYears(w.Start):
		return v.fail(path+".start", "must be in the years 1 to 9999 (UTC)")
	case !inYears(w.End):
		return v.fail(path+".end", "must be in the years 1 to 9999 (UTC)")
	case !w.End.After(w.Start):
		return v.fail(path+".end", "must be after start (%s)", w.Start.Format(timeFormat))
	}
	return v.text(path+".reason", w.Reason, true)
}

func (v *validator) text(path, s string, required bool) error {
	if s == "" && required {
		return v.fail(path, "is required")
	}
	if !isText(s) {
		return v.fail(path, "must be printable text on one line")
	}
	return nil
}

// isText rejects what a person could not read in Slack and what would not
// survive a JSON round trip back through the YAML reader.
func isText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.In(r, unicode.Cc, unicode.Zl, unicode.Zp) || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF {
			return false
		}
	}
	return true
}

// inYears keeps times that encoding/json can write.
func inYears(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}
