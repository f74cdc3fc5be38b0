// Package policy holds foureyes' policy-as-code: who exists, who may sign which
// gate in which environment, and the separation rules no policy can switch off.
//
// Everything here is pure and deterministic so that the release workflow can
// evaluate decisions against the policy pinned at its start.
package policy

import "time"

// Gate names. A release passes the review gate, then the approval gate.
const (
	GateReview   = "review"
	GateApproval = "approval"
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
}

// Bot is an automated decider authenticated by an API token.
type Bot struct {
	ID          string   `yaml:"id" json:"id"`
	TokenSHA256 string   `yaml:"token_sha256" json:"token_sha256"`
	Gates       []string `yaml:"gates" json:"gates"` // gates the bot may answer
	Groups      []string `yaml:"groups" json:"groups,omitempty"`
}

// Environment holds the rule of each gate for releases into it.
type Environment struct {
	Gates map[string]GateRule `yaml:"gates" json:"gates"`
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
	Identity    string    // who is deciding
	Authors     []string  // identities that authored the change
	Requester   string    // identity that requested the release
	Earlier     []string  // identities that signed an earlier gate
	Signed      []string  // identities that already signed this gate
	Executors   []string  // worker identities that ran stages of this release
	Now         time.Time // workflow time of the decision
	// Reject is true for a rejection: a freeze window stops approvals and
	// deploys, never a "no".
	Reject bool
}

// Verdict is the answer to a Check.
type Verdict struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"` // why not, in words a person understands
}

// Eligibility explains, for one identity, whether it could still sign a gate.
type Eligibility struct {
	Identity string `json:"identity"`
	Kind     string `json:"kind"` // "human" or "bot"
	Eligible bool   `json:"eligible"`
	Reason   string `json:"reason"`
}
