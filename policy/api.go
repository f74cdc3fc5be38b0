package policy

// This file fixes the package's API so that other packages can be written
// against it. Implementations live in decode.go, rules.go and identity.go.
//
//	Load(path string) (*Policy, string, error)
//	    reads, strictly decodes and validates a policy file (YAML or JSON);
//	    returns the policy and the hex SHA-256 of the file's bytes. Errors
//	    read "FILE: FIELD.PATH: reason", e.g.
//	    "policy.yaml: environments.prod.gates.approval.quorum: must be at least 1".
//	Parse(name string, data []byte) (*Policy, error)
//	    the same on bytes; name is used in errors.
//	HashBytes(data []byte) string
//	    hex SHA-256, the policy hash pinned into a release.
//	Compress(data []byte) ([]byte, error), CompressWithDictionary(data []byte) ([]byte, error)
//	    a policy file's bytes compressed for a release's history
//	    (Snapshot.Compressed): gzip, or DEFLATE with DictionarySampleV1.
//	DecompressPinned(b []byte) ([]byte, error)
//	    either form back, refusing more than MaxFileBytes.
//
//	(p *Policy) Decide(c Check) Verdict
//	    every rule for one decision (approve or reject): known identity,
//	    not a service identity, not an executor, not an author, no commit
//	    email that maps to nobody (unless allowed; approvals only), not the
//	    requester, not an earlier signer, not already signed, eligible by
//	    group/identity, bot allowed at the gate and bots counting, no freeze
//	    window at c.Now, rule present (fail closed). A refusal names its
//	    rule by code (Verdict.Rule, one of Rules) and says why in Reason.
//	(p *Policy) Explain(c Check) []Eligibility
//	    Decide for every known identity (c.Identity ignored), sorted by identity.
//	(p *Policy) Awaiting(c Check) []string
//	    identities Explain finds eligible, sorted.
//	(p *Policy) Rule(env, gate string) (GateRule, bool)
//	(p *Policy) Frozen(env, gate string, now time.Time) (Window, bool)
//	(p *Policy) IdentityForToken(token string) (string, bool)
//	    SHA-256 of token compared in constant time with every token hash.
//	(p *Policy) IdentityForSlack(userID string) (string, bool)
//	(p *Policy) Service(name string) (Service, bool)
//	    the service's repository and build command, if the policy lists it.
//	(p *Policy) IdentityForEmail(email string) (string, bool)
//	(p *Policy) MapEmails(emails []string) (identities, unmapped []string)
//	    commit emails to identities (email or git_emails, ignoring case).
//	(p *Policy) AllowsUnmapped(env string) bool      // unmapped_emails: allow
//	(p *Policy) AllowsNoRepository(env string) bool  // services_without_repository: allow
//	(p *Policy) Known(id string) bool
//	(p *Policy) IsReleaseManager(id string) bool
//	(p *Policy) Requirement(env string) (Requirement, bool)
//	    the promotion rule: requires {environment, verified_for, unmet}.
//	(r Requirement) Judge(d *Deployment, digest string, now time.Time) Judgement
//	    Met when digest ran verified in r.Environment for r.VerifiedFor; else
//	    why not and, when only the soak time is short, how much is left.
//	(p *Policy) EmergencyRule(env string) (Emergency, bool)
//	EmergencyQuorum(r GateRule) int       // never below MinEmergencyApprovals (2)
//	EmergencyDeadline(r GateRule, e Emergency) time.Duration  // only shortens
//	(p *Policy) CheckComment(env, gate string, reject bool, comment string) Verdict
//	    a rejection always needs a comment; an approval where comment_required.
//	(d Duration) Std() time.Duration
//	    Duration reads and writes Go duration strings ("24h") in YAML and JSON.
//
// Errors from Load and Parse are *Error (File, Path, Line, Reason):
// "FILE: field.path: reason (line N)"; the line is left out when unknown.
// Every gate rule needs a positive deadline and a quorum its eligible
// identities can reach.

import "github.com/foureyes/foureyes/formats/yamlfile"

// Error is a policy file error, "FILE: field.path: reason (line N)": the
// one type of every strictly decoded YAML file of foureyes, the server's
// authorization file's too (formats/yamlfile).
type Error = yamlfile.Error
