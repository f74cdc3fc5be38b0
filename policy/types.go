// Package policy holds foureyes' policy-as-code: who exists, who may sign which
// gate in which environment, and the separation rules no policy can switch off.
//
// Everything here is pure and deterministic so that the release workflow can
// evaluate decisions against the policy pinned at its start.
package policy

import (
	"time"

	"github.com/foureyes/foureyes/api"
)

// Gate names. A release passes the review gate, then the approval gate.
// They are the contract's (api.GateReview, api.GateApproval): decisions
// name them.
const (
	GateReview   = api.GateReview
	GateApproval = api.GateApproval
)

// Gates lists the gates in the order a release meets them.
var Gates = []string{GateReview, GateApproval}

// Policy is one decoded and validated policy file.
type Policy struct {
	// Version of the policy format; must be 1.
	Version int `yaml:"version" json:"version"`
	// Humans are people; they sign through Slack or the API (optional token).
	Humans []Human `yaml:"humans" json:"humans"`
	// Bots sign through the API with a bearer token whose SHA-256 is kept here.
	Bots []Bot `yaml:"bots" json:"bots"`
	// ServiceIdentities are the identities of foureyes' own worker roles
	// (orchestrator, build, review, approval, deploy). They can never sign.
	ServiceIdentities []string `yaml:"service_identities" json:"service_identities"`
	// ReleaseManagers are groups whose members may cancel any release.
	ReleaseManagers []string `yaml:"release_managers" json:"release_managers"`
	// Services by name: where each service's code lives and how it is
	// built. The build role checks out the release's commit from the
	// repository and takes the change's authors from its commits.
	Services map[string]Service `yaml:"services" json:"services,omitempty"`
	// Environments by name (e.g. "staging", "prod").
	Environments map[string]Environment `yaml:"environments" json:"environments"`
	// Keys lists, per signing role (orchestrator, build, review, approval,
	// deploy), the Ed25519 public keys whose signatures count for that role's
	// facts ("ed25519:<base64>"; several during a rotation).
	Keys map[string][]string `yaml:"keys" json:"keys,omitempty"`
}

// Human is a person known to foureyes.
type Human struct {
	ID     string   `yaml:"id" json:"id"`
	Slack  string   `yaml:"slack" json:"slack,omitempty"` // Slack user id, e.g. U012AB3CD
	Email  string   `yaml:"email" json:"email"`
	Groups []string `yaml:"groups" json:"groups"`
	// TokenSHA256 (optional) lets the person decide through the API.
	TokenSHA256 string `yaml:"token_sha256" json:"token_sha256,omitempty"`
	// GitEmails (optional) are other addresses the person writes commits
	// with; commits by Email or any of these are the person's.
	GitEmails []string `yaml:"git_emails" json:"git_emails,omitempty"`
	// SSH (optional) are the person's SSH public keys ("ssh-ed25519 AAAA…"
	// or "sk-ssh-ed25519@openssh.com AAAA…"): decisions, requests and
	// commits they sign with them are theirs (people.go).
	SSH []string `yaml:"ssh" json:"ssh,omitempty"`
	// WebAuthn (optional) are the person's passkeys for the approval page.
	WebAuthn []WebAuthnKey `yaml:"webauthn" json:"webauthn,omitempty"`
}

// Service is one deployable service: its git repository and, optionally,
// the command that builds it.
type Service struct {
	// Repository is a URL (https://, ssh://, git://, file://, or
	// user@host:path) or a path; a relative path is relative to the folder
	// of the policy file the build role reads.
	Repository string `yaml:"repository" json:"repository"`
	// Build (optional) is a shell command run in a clean checkout of the
	// commit; it writes the artifact to $FOUREYES_ARTIFACT_PATH. Without
	// it the build role's FOUREYES_BUILD_COMMAND, else `git archive`.
	Build string `yaml:"build" json:"build,omitempty"`
	// Commits (optional) is "signed" or "any" for this service in every
	// environment; the stricter of it and the environment's applies (commits.go).
	Commits string `yaml:"commits" json:"commits,omitempty"`
	// Baseline (optional) is the full SHA of the commit the service was
	// reviewed at when it was onboarded: a first release into an
	// environment is every commit since it (without it, the whole history).
	Baseline string `yaml:"baseline" json:"baseline,omitempty"`
}

// Settings of an environment for commits and services.
const (
	UnmappedBlock = "block"  // an email that maps to no identity blocks approvals (default)
	UnmappedAllow = "allow"  // such emails are shown, approvals go on
	NoRepoRefuse  = "refuse" // a service without a repository cannot be released (default)
	NoRepoAllow   = "allow"  // built without sources; authors only as declared
)

// Bot is an automated decider authenticated by an API token.
type Bot struct {
	ID          string   `yaml:"id" json:"id"`
	TokenSHA256 string   `yaml:"token_sha256" json:"token_sha256"`
	Gates       []string `yaml:"gates" json:"gates"` // gates the bot may answer
	Groups      []string `yaml:"groups" json:"groups,omitempty"`
	// SSH (optional) are the bot's SSH public keys: at a gate whose proof
	// is "approver" it signs its decisions with one of them.
	SSH []string `yaml:"ssh" json:"ssh,omitempty"`
}

// Environment holds the rule of each gate for releases into it.
type Environment struct {
	Gates map[string]GateRule `yaml:"gates" json:"gates"`
	// UnmappedEmails says what an author, committer or co-author email that
	// maps to no identity does: "block" (the default: no approval at any
	// gate, fail closed) or "allow".
	UnmappedEmails string `yaml:"unmapped_emails" json:"unmapped_emails,omitempty"`
	// ServicesWithoutRepository says whether a service the policy names no
	// repository for may be released here: "refuse" (the default) or
	// "allow" (built without sources, its authors only those declared).
	ServicesWithoutRepository string `yaml:"services_without_repository" json:"services_without_repository,omitempty"`
	// Requires (optional) is the promotion rule: what the release's artifact
	// must have been through in an earlier environment (promotion.go).
	Requires *Requirement `yaml:"requires" json:"requires,omitempty"`
	// Emergency (optional) allows break-glass releases here and says what
	// they may skip; without it no release here can be an emergency.
	Emergency *Emergency `yaml:"emergency" json:"emergency,omitempty"`
	// RequestProof says what a start or emergency declaration here needs:
	// "gateway" (the default: the release-manager credential) or
	// "requester" (the requester's own SSH signature; the requester is then
	// the signer, never a typed name).
	RequestProof string `yaml:"request_proof" json:"request_proof,omitempty"`
	// Commits says what the change's commits need here: "any" (the
	// default: unsigned commits are shown as unproven) or "signed" (every
	// commit signed by a key of an identity of this policy, else the build
	// fails closed). See commits.go.
	Commits string `yaml:"commits" json:"commits,omitempty"`
}

// GateRule says who may sign one gate of one environment, and how many must.
type GateRule struct {
	Groups       []string `yaml:"groups" json:"groups,omitempty"`
	Identities   []string `yaml:"identities" json:"identities,omitempty"`
	Quorum       int      `yaml:"quorum" json:"quorum"`
	BotsCount    bool     `yaml:"bots_count" json:"bots_count"`
	Deadline     Duration `yaml:"deadline" json:"deadline"`
	Freeze       []Window `yaml:"freeze" json:"freeze,omitempty"`
	SlackChannel string   `yaml:"slack_channel" json:"slack_channel,omitempty"`
	// CommentRequired: an approval at this gate needs a comment too (a
	// rejection always does, whatever the policy says).
	CommentRequired bool `yaml:"comment_required" json:"comment_required,omitempty"`
	// Proof says what makes a decision here count: "gateway" (the default:
	// the approval role vouches for the person it authenticated) or
	// "approver" (only the decider's own signature, SSH or passkey).
	Proof string `yaml:"proof" json:"proof,omitempty"`
}

// Window is a freeze window: no decision at the gate and (for the approval
// gate) no deploy between Start and End.
type Window struct {
	Start  time.Time `yaml:"start" json:"start"`
	End    time.Time `yaml:"end" json:"end"`
	Reason string    `yaml:"reason" json:"reason"`
}

// Duration is a time.Duration written as "90m", "24h" in YAML and JSON.
type Duration time.Duration

// Check is what the workflow knows when it judges one decision.
type Check struct {
	Environment string
	Gate        string
	Identity    string   // who is deciding
	Authors     []string // identities that authored the change
	// Signers are the authors whose own keys signed commits of the change
	// (a subset of Authors): told so when they try to sign a gate.
	Signers []string
	// Unmapped are emails of the change's commits that map to no identity:
	// unless the environment allows them, they block every approval.
	Unmapped  []string
	Requester string // identity that requested the release
	// Declarer is the release manager who declared the release an
	// emergency ("" otherwise): like the requester, they may not sign it.
	Declarer  string
	Earlier   []string  // identities that signed an earlier gate
	Signed    []string  // identities that already signed this gate
	Executors []string  // worker identities that ran stages of this release
	Now       time.Time // workflow time of the decision
	// Reject is true for a rejection: a freeze window stops approvals and
	// deploys, never a "no".
	Reject bool
}

// Verdict is the answer to a Check. The zero Verdict refuses (fail closed).
type Verdict struct {
	Allowed bool `json:"allowed"`
	// Rule is the code of the rule that refused ("" when allowed): what
	// metrics, dashboards and programs read. Reason is for people and may
	// be reworded at any time.
	Rule   api.Rule `json:"rule,omitempty"`
	Reason string   `json:"reason"` // why (not), in words a person understands
}

// Snapshot is the policy pinned into a release at its start (the
// orchestrator's LoadPolicy result). Releases with signed attestations read
// only Content: the workflow parses it and computes its hash itself, so a
// rogue answer cannot claim another file's hash. Policy and Hash are kept
// for histories recorded before.
type Snapshot struct {
	Policy  *Policy `json:"policy,omitempty"` // decoded (histories before signed attestations)
	Hash    string  `json:"hash"`             // hex SHA-256 of the file, as the activity saw it
	Path    string  `json:"path"`
	Content []byte  `json:"content,omitempty"` // the file's bytes
	// Compressed is the file's bytes compressed, instead of Content, when
	// the release asked for it (LoadPolicyInput.Gzip): the pinned policy is
	// the largest payload of a release's history (docs/benchmarks.md, issue
	// 26). Gzip in a snapshot; a binary answer (LoadPolicyInput.Bytes) may
	// also be DEFLATE with a preset dictionary (LoadPolicyInput.Dict):
	// DecompressPinned reads either.
	Compressed []byte `json:"gzip,omitempty"`
}
