// Package workflows holds the Release workflow: four separated duties (code,
// review, approve, deploy), each an activity on its own role's task queue,
// with policy gates between them that move only on signals.
package workflows

import (
	"time"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/policy"
)

// Task queues, one per role. Each role's worker polls only its own.
const (
	QueueOrchestrator = "foureyes-orchestrator"
	QueueBuild        = "foureyes-build"
	QueueReview       = "foureyes-review"
	QueueApproval     = "foureyes-approval"
	QueueDeploy       = "foureyes-deploy"
)

// Message names.
const (
	SignalDecision = "decision" // unsigned: refused for releases with signed attestations
	SignalCancel   = "cancel"   // unsigned: refused for releases with signed attestations
	UpdateDecide   = "decide"   // argument: SignedRequest; returns DecisionOutcome
	UpdateCancel   = "cancel"   // argument: SignedRequest; returns CancelOutcome
	QueryBinding   = "binding"  // returns Binding: what a signed decision must be bound to
	QueryStatus    = "status"
	QueryAudit     = "audit"
	QueryDecision  = "decision" // argument: request id; returns DecisionOutcome
	QueryExplain   = "explain"  // returns ExplainResult for the open gate
)

// Stages of a release.
const (
	StageCode    = "code"
	StageReview  = "review"
	StageApprove = "approve"
	StageDeploy  = "deploy"
	// StageFollowUp: after an emergency's deploy, until its review is signed off.
	StageFollowUp = "follow_up"
)

// GateFollowUp is the review gate an emergency's deploy opens: one eligible
// reviewer signs it off (policy.GateReview's rule, quorum 1, no deadline).
const GateFollowUp = "follow_up"

// Release states, as shown in status and (later) search attributes.
const (
	StatusBuilding         = "building"
	StatusReviewing        = "reviewing"
	StatusAwaitingReview   = "awaiting_review"
	StatusAwaitingApproval = "awaiting_approval"
	StatusFrozen           = "frozen"
	StatusDeploying        = "deploying"
	StatusDeployed         = "deployed"
	StatusRejected         = "rejected"
	StatusExpired          = "expired"
	StatusCancelled        = "cancelled"
	StatusRolledBack       = "rolled_back"
	StatusFailed           = "failed"
	StatusAwaitingFollowUp = "awaiting_follow_up" // emergency deployed, follow-up review open
)

// Verdicts a decision carries.
const (
	VerdictApprove = "approve"
	VerdictReject  = "reject"
)

// Channels a decision or request arrives through.
const (
	ChannelAPI   = "api"
	ChannelSlack = "slack"
	ChannelCLI   = "cli"
)

// Decision outcomes reported back to the caller.
const (
	OutcomeAccepted   = "accepted"
	OutcomeRefused    = "refused"
	OutcomeGateClosed = "gate_closed"
	OutcomePending    = "pending" // not (yet) processed by the workflow
)

// ReleaseRequest starts a release.
type ReleaseRequest struct {
	Service     string `json:"service"`
	Environment string `json:"environment"`
	// Commit is a full 40-hex SHA or, for a service whose repository the
	// policy names, also a short SHA, a tag or a branch: the build role
	// resolves it once and the release pins the full SHA.
	Commit string `json:"commit"`
	// Authors are policy identities declared by the requester; with a
	// repository, those of the change's commits count too (optional then).
	Authors   []string `json:"authors"`
	Requester string   `json:"requester"`
	Title     string   `json:"title"`
	Link      string   `json:"link"`
	// Promotes (optional): the release this one promotes. Its artifact is
	// deployed as it is, no rebuild, on the build role's provenance kept
	// exactly as signed.
	Promotes *Promotion `json:"promotes,omitempty"`
	// Emergency (optional): the approval role's signed statement that a
	// release manager declared this release an emergency, with a reason
	// (attest.PredicateEmergency about attest.ReleaseSubject of its id).
	Emergency attest.Envelope `json:"emergency,omitempty"`
}

// Promotion links a release to the one whose artifact it promotes.
type Promotion struct {
	Release    string          `json:"release"`
	Provenance attest.Envelope `json:"provenance"` // the promoted release's, as the build role signed it
}

// ReleaseResult is how a release ended.
type ReleaseResult struct {
	Status         string `json:"status"` // deployed, rejected, expired, cancelled, rolled_back, failed
	Reason         string `json:"reason"`
	ArtifactRef    string `json:"artifact_ref"`
	ArtifactDigest string `json:"artifact_digest"`
	PolicyHash     string `json:"policy_hash"`
	AuditHead      string `json:"audit_head"`
	Commit         string `json:"commit,omitempty"` // the full SHA, once resolved
}

// Decision is the payload of SignalDecision.
type Decision struct {
	RequestID string `json:"request_id"` // a retried delivery of the same id counts once
	Gate      string `json:"gate"`       // policy.GateReview or policy.GateApproval
	Verdict   string `json:"verdict"`    // VerdictApprove or VerdictReject
	Identity  string `json:"identity"`   // policy identity, authenticated by the gateway
	Channel   string `json:"channel"`
	Comment   string `json:"comment"`
}

// CancelRequest is the payload of SignalCancel.
type CancelRequest struct {
	RequestID string `json:"request_id"`
	Identity  string `json:"identity"`
	Channel   string `json:"channel"`
	Reason    string `json:"reason"`
}

// DecisionOutcome is what happened to one decision (QueryDecision).
type DecisionOutcome struct {
	RequestID string `json:"request_id"`
	Outcome   string `json:"outcome"` // accepted, refused, gate_closed, pending
	// Rule is the code of what refused it (a policy.Rule or one of
	// JudgeRules; "" when accepted or pending); Reason says it for people.
	Rule      policy.Rule `json:"rule,omitempty"`
	Reason    string      `json:"reason"`
	Gate      string      `json:"gate"`
	GateState string      `json:"gate_state"` // open, approved, rejected, expired, closed
}

// Signer is one accepted decision at a gate.
type Signer struct {
	Identity string    `json:"identity"`
	Verdict  string    `json:"verdict"`
	Channel  string    `json:"channel"`
	Comment  string    `json:"comment"`
	At       time.Time `json:"at"`
}

// Refusal is one refused decision attempt.
type Refusal struct {
	Identity string      `json:"identity"`
	Gate     string      `json:"gate"`
	Channel  string      `json:"channel"`
	Rule     policy.Rule `json:"rule,omitempty"` // code of the rule that refused it
	Reason   string      `json:"reason"`
	At       time.Time   `json:"at"`
}

// Status answers QueryStatus.
type Status struct {
	ReleaseID      string         `json:"release_id"`
	Request        ReleaseRequest `json:"request"`
	Stage          string         `json:"stage"`
	Status         string         `json:"status"`
	OpenGate       string         `json:"open_gate"`
	Quorum         int            `json:"quorum"`
	Signed         []Signer       `json:"signed"`
	Awaiting       []string       `json:"awaiting"` // who may still sign the open gate
	Deadline       time.Time      `json:"deadline"`
	ArtifactRef    string         `json:"artifact_ref"`
	ArtifactDigest string         `json:"artifact_digest"`
	PolicyHash     string         `json:"policy_hash"`
	LastRefusal    *Refusal       `json:"last_refusal,omitempty"`
	Executors      []string       `json:"executors"` // worker identities that ran stages
	Result         *ReleaseResult `json:"result,omitempty"`
	// Commit is the full SHA the release builds and deploys: Request.Commit
	// as the build role resolved it ("" before the build).
	Commit string `json:"commit,omitempty"`
	// Authors are every author the gates know: declared and from git.
	Authors []string `json:"authors,omitempty"`
	// Change is what git says the release changes (releases with sources).
	Change *Change `json:"change,omitempty"`
	// Emergency is the verified break-glass declaration (nil: none).
	Emergency *EmergencyView `json:"emergency,omitempty"`
	// Promotes is the release this one promotes ("" otherwise).
	Promotes string `json:"promotes,omitempty"`
}

// EmergencyView is an emergency as status shows it.
type EmergencyView struct {
	DeclaredBy string `json:"declared_by"`
	Reason     string `json:"reason"`
}

// Change is a release's change as the build role read it from git and
// attested: the commits since the last deployed one, and their authors.
type Change struct {
	Repository     string                `json:"repository"`
	Ref            string                `json:"ref"`
	Base           string                `json:"base"` // last deployed commit; "" on a first release
	BaseRelease    string                `json:"base_release"`
	BaseIsAncestor bool                  `json:"base_is_ancestor"`
	Commits        []attest.ChangeCommit `json:"commits"` // newest first, at most 20
	CommitCount    int                   `json:"commit_count"`
	Authors        []string              `json:"authors"`  // identities of the commits' emails
	Unmapped       []string              `json:"unmapped"` // emails that map to nobody
}

// ExplainResult answers QueryExplain: who could still sign the open gate.
type ExplainResult struct {
	Gate       string               `json:"gate"`
	Quorum     int                  `json:"quorum"`
	Signed     []string             `json:"signed"`
	Identities []policy.Eligibility `json:"identities"`
}

// AuditTrail answers QueryAudit.
type AuditTrail struct {
	Entries []audit.Entry `json:"entries"`
}

// SignedRequest is the argument of UpdateDecide and UpdateCancel: a DSSE
// envelope signed by the approval role (attest.PredicateDecision or
// attest.PredicateCancel). The workflow reads nothing else: identity,
// verdict, gate and request id come from the signed statement. The update id
// is the statement's request id, so a retry is the same update.
type SignedRequest struct {
	Envelope attest.Envelope `json:"envelope"`
}

// CancelOutcome answers UpdateCancel.
type CancelOutcome struct {
	RequestID string      `json:"request_id"`
	Outcome   string      `json:"outcome"`        // accepted, refused
	Rule      policy.Rule `json:"rule,omitempty"` // code of what refused it (CancelRules, unverified, ...)
	Reason    string      `json:"reason"`
}

// Binding answers QueryBinding: what the approval role binds a decision to.
type Binding struct {
	ReleaseID      string `json:"release_id"`
	PolicyHash     string `json:"policy_hash"`
	ArtifactDigest string `json:"artifact_digest"` // "" before the build is attested
	OpenGate       string `json:"open_gate"`
	Signed         bool   `json:"signed"` // the release takes only signed decisions (Updates)
}
