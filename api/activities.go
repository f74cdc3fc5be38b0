package api

import (
	"fmt"
	"time"

	"github.com/foureyes/foureyes/attest"
)

// Activity names, as the workers register them (the method names of the
// roles' structs) and the histories record them. The workflow calls the
// methods themselves; the names are for those who see only activity types:
// the server's authorization, the workers' stage logs, the bench.
const (
	ActivityLoadPolicy = "LoadPolicy" // orchestrator
	ActivitySeal       = "Seal"       // orchestrator
	ActivityBuild      = "Build"      // build
	ActivityReview     = "Review"     // review
	ActivityNotify     = "Notify"     // approval
	ActivityDeployed   = "Deployed"   // deploy
	ActivityDeploy     = "Deploy"     // deploy
	ActivityVerify     = "Verify"     // deploy
	ActivityRollback   = "Rollback"   // deploy
)

// QueueActivities are the activity types each role's queue runs, sorted:
// what the role's worker registers (the methods of its activities struct,
// pinned by activities' TestQueueActivitiesAreTheRolesMethods), and so all
// the server's authorization allows there.
var QueueActivities = map[string][]string{
	QueueOrchestrator: {ActivityLoadPolicy, ActivitySeal},
	QueueBuild:        {ActivityBuild},
	QueueReview:       {ActivityReview},
	QueueApproval:     {ActivityNotify},
	QueueDeploy:       {ActivityDeploy, ActivityDeployed, ActivityRollback, ActivityVerify},
}

// BuildInput asks the build role for the artifact of one commit.
type BuildInput struct {
	ReleaseID   string `json:"release_id"`
	Service     string `json:"service"`
	Environment string `json:"environment"`
	// Commit is what the release asked for: a full SHA or, with Git, also
	// a short SHA, a tag or a branch, which the build role resolves.
	Commit     string   `json:"commit"`
	PolicyHash string   `json:"policy_hash,omitempty"` // bound into the provenance
	Authors    []string `json:"authors,omitempty"`     // attested in the provenance
	Requester  string   `json:"requester,omitempty"`   // attested in the provenance
	// Git: build from the service's repository (the build role's own policy
	// names it) and take the change's authors from its commits. False in
	// releases recorded before sources came from git.
	Git bool `json:"git,omitempty"`
	// Deployed is the deploy role's signed statement of what is deployed to
	// the service and environment (attest.PredicateDeployed), bound to this
	// release: the change starts after that commit.
	Deployed attest.Envelope `json:"deployed,omitempty"`
}

// BuildResult is the built artifact.
type BuildResult struct {
	ArtifactRef string `json:"artifact_ref"` // path or URL of the artifact
	Digest      string `json:"digest"`       // hex SHA-256 of the artifact bytes
	Executor    string `json:"executor"`     // identity of the worker that built it
	Output      string `json:"output"`       // tail of the command's output
	Commit      string `json:"commit"`       // the full SHA built (the provenance says it too)
	// Provenance is the build role's signed SLSA provenance v1 of the
	// artifact (attest.PredicateProvenance); only it is trusted.
	Provenance attest.Envelope `json:"provenance,omitempty"`
}

// DeployedInput asks the deploy role what is deployed to a service in an
// environment, for a release about to build.
type DeployedInput struct {
	ReleaseID   string `json:"release_id"`
	Service     string `json:"service"`
	Environment string `json:"environment"`
	PolicyHash  string `json:"policy_hash"`
}

// DeployedResult is the deploy role's signed answer (attest.PredicateDeployed).
type DeployedResult struct {
	Statement attest.Envelope `json:"statement"`
	Executor  string          `json:"executor"`
}

// ReviewInput asks the review role to check an artifact.
type ReviewInput struct {
	ReleaseID   string `json:"release_id"`
	Service     string `json:"service"`
	Commit      string `json:"commit"`
	ArtifactRef string `json:"artifact_ref"`
	Digest      string `json:"digest"`
	PolicyHash  string `json:"policy_hash,omitempty"` // bound into the verdict
}

// ReviewResult reports the automated checks. Passed=false is a finding, not an error.
type ReviewResult struct {
	Passed   bool     `json:"passed"`
	Findings []string `json:"findings"`
	Executor string   `json:"executor"`
	// Attestation is the review role's signed verdict (attest.PredicateReview).
	Attestation attest.Envelope `json:"attestation,omitempty"`
}

// Notification kinds.
const (
	NotifyPrompt   = "prompt"   // a gate opened: ask who may sign
	NotifyReminder = "reminder" // half the deadline passed
	NotifyDecision = "decision" // a decision was accepted (progress)
	NotifyOutcome  = "outcome"  // the gate or release ended
)

// Notification is sent by the workflow to the approval role, which tells people.
// Empty fields are omitted: every reader (the approval role's notifiers, the
// gateway's Prompted, the stage log) treats an absent field as empty.
//
// A gate's prompt carries the release's facts (Static); the gate's later
// notices, from versionLeanNoticeInputs of the Release workflow, only what
// changed (Lean) with FromPrompt set, and the approval role takes the rest
// from the prompt (Complete). Before it, every notice carried everything.
type Notification struct {
	Kind           string    `json:"kind"`
	ReleaseID      string    `json:"release_id,omitempty"`
	Gate           string    `json:"gate,omitempty"`
	Service        string    `json:"service,omitempty"`
	Environment    string    `json:"environment,omitempty"`
	Commit         string    `json:"commit,omitempty"`
	Link           string    `json:"link,omitempty"`
	Authors        []string  `json:"authors,omitempty"`
	Requester      string    `json:"requester,omitempty"`
	Needed         string    `json:"needed,omitempty"`   // e.g. "2 of prod-owners"
	Signed         []string  `json:"signed,omitempty"`   // who signed so far
	Awaiting       []string  `json:"awaiting,omitempty"` // who may still sign
	Deadline       time.Time `json:"deadline,omitzero"`
	ArtifactDigest string    `json:"artifact_digest,omitempty"`
	PolicyHash     string    `json:"policy_hash,omitempty"`
	SlackChannel   string    `json:"slack_channel,omitempty"`
	Outcome        string    `json:"outcome,omitempty"`
	Detail         string    `json:"detail,omitempty"`
	Ref            string    `json:"ref,omitempty"` // reference of the prompt message, for updates
	// The change, when its authors came from git: the commit's ref as
	// asked, the commits (newest first, at most a few) and how many there
	// are, and emails that map to nobody (they block approvals).
	CommitRef   string       `json:"commit_ref,omitempty"`
	Commits     []CommitLine `json:"commits,omitempty"`
	CommitCount int          `json:"commit_count,omitempty"`
	Unmapped    []string     `json:"unmapped,omitempty"`
	GateState   string       `json:"gate_state,omitempty"` // open, approved, rejected, expired, closed
	Quorum      int          `json:"quorum,omitempty"`     // approvals the gate needs
	Ended       bool         `json:"ended,omitempty"`      // the release has ended (final outcome)
	// Emergency is the break-glass reason of an emergency release ("" otherwise).
	Emergency string `json:"emergency,omitempty"`
	// Promotes is the release this one promotes ("" otherwise).
	Promotes string `json:"promotes,omitempty"`
	// RunID is the release's workflow run: decisions are scoped to it.
	RunID string `json:"run_id,omitempty"`
	// FromPrompt: the release's facts are left out; they are those of the
	// gate's prompt, in the same run (Complete).
	FromPrompt bool `json:"from_prompt,omitempty"`
}

// Lean is n without what its gate's prompt already said: the kind, the
// release and gate that name the prompt, and what changes while a gate is
// open (signers, who may still sign, states, detail, the prompt's ref).
func (n Notification) Lean() Notification {
	return Notification{Kind: n.Kind, ReleaseID: n.ReleaseID, Gate: n.Gate, Signed: n.Signed,
		Awaiting: n.Awaiting, Outcome: n.Outcome, Detail: n.Detail, Ref: n.Ref, GateState: n.GateState,
		Ended: n.Ended, FromPrompt: true}
}

// Complete is lean notice n with the release's facts of its gate's prompt
// p: the notice as the workflow built it before it went lean.
func (n Notification) Complete(p Notification) Notification {
	full := p
	full.Kind, full.Signed, full.Awaiting, full.Outcome, full.Detail = n.Kind, n.Signed, n.Awaiting, n.Outcome, n.Detail
	full.Ref, full.GateState, full.Ended, full.FromPrompt = n.Ref, n.GateState, n.Ended, false
	return full
}

// CommitLine is one commit of a change as people are shown it.
type CommitLine struct {
	Short   string `json:"short"` // 7 characters
	Subject string `json:"subject"`
	Author  string `json:"author"` // identity, else email
	// Proof is what the commit's signature proves ("signed by carol",
	// "unsigned: authorship unproven"; "" before commits were verified).
	Proof string `json:"proof,omitempty"`
}

// Line is the commit as one line of text: short SHA, subject, author, proof.
func (c CommitLine) Line() string {
	if c.Proof == "" {
		return fmt.Sprintf("%s %s (%s)", c.Short, c.Subject, c.Author)
	}
	return fmt.Sprintf("%s %s (%s; %s)", c.Short, c.Subject, c.Author, c.Proof)
}

// NotifyResult says where a prompt went; the answer to any other notice is
// empty (the release reads only its prompts' answers; who took a notice is
// its activity's started event's identity): 140 B of history fewer per
// notice (docs/benchmarks.md, issue 26).
type NotifyResult struct {
	Ref      string `json:"ref,omitempty"` // e.g. console line id or Slack channel+ts
	Executor string `json:"executor,omitempty"`
}

// DeployInput is what the deploy role deploys, verifies or rolls back.
type DeployInput struct {
	ReleaseID   string `json:"release_id"`
	Service     string `json:"service"`
	Environment string `json:"environment"`
	Commit      string `json:"commit"`
	ArtifactRef string `json:"artifact_ref"`
	Digest      string `json:"digest"`
	PolicyHash  string `json:"policy_hash,omitempty"`
	// Promotes is the release this one promotes ("" for a release that
	// built its artifact): the bundle's provenance is that release's.
	Promotes string `json:"promotes,omitempty"`
	// RunID is the release's run, as the workflow says (informational: the
	// deploy role takes the run from the server).
	RunID string `json:"run_id,omitempty"`
	// Bundle is the evidence the deploy role checks itself before Deploy
	// runs anything (nil in histories before signed attestations).
	Bundle *Bundle `json:"bundle,omitempty"`
	// FailedVerify is the deploy role's own receipt of this release's failed
	// verify, when that is why the release rolls back (Rollback).
	FailedVerify attest.Envelope `json:"failed_verify,omitempty"`
}

// Bundle is every signed fact a deploy rests on.
type Bundle struct {
	Provenance attest.Envelope   `json:"provenance"` // build role
	Review     attest.Envelope   `json:"review"`     // review role
	Decisions  []attest.Envelope `json:"decisions"`  // approval role: accepted decisions, in the order accepted
	// Emergency is the approval role's statement that a release manager
	// declared this release an emergency (attest.PredicateEmergency).
	Emergency attest.Envelope `json:"emergency,omitempty"`
}

// StepResult is the result of deploy, verify or rollback. OK=false with a nil
// error means the step ran and reported failure (e.g. verification failed).
type StepResult struct {
	OK       bool   `json:"ok"`
	Output   string `json:"output"`
	Executor string `json:"executor"`
	// Receipt is the deploy role's signed account of the step
	// (attest.PredicateDeploy); only it is trusted.
	Receipt attest.Envelope `json:"receipt,omitempty"`
}

// LoadPolicyInput asks the orchestrator role for the policy file (none in
// histories before versionLeanHistory of the Release workflow: the file's
// bytes as they are).
type LoadPolicyInput struct {
	// Gzip asks for the file's bytes gzip-compressed (policy.Snapshot.Compressed).
	Gzip bool `json:"gzip,omitempty"`
	// Bytes asks for the compressed bytes alone, as the activity's result:
	// a binary payload instead of base64 inside a JSON snapshot (a quarter
	// of the largest payload of a release's history). The release hashes
	// and parses what it decompressed, as for a snapshot.
	Bytes bool `json:"bytes,omitempty"`
	// Dict, with Bytes, asks for the file DEFLATE-compressed with the named
	// preset dictionary (policy.DictionarySampleV1) instead of gzip: 4.9 KB
	// → 0.3 KB for the stack's policy. An orchestrator that does not know
	// the name answers gzip, which the release reads as well.
	Dict string `json:"dict,omitempty"`
}

// SealInput asks the orchestrator role to sign a release's final chain head.
type SealInput struct {
	ReleaseID  string `json:"release_id"`
	PolicyHash string `json:"policy_hash"`
	Head       string `json:"head"`    // hash of the last entry
	Entries    int    `json:"entries"` // entries the head covers
	Status     string `json:"status"`  // how the release ended
}

// SealResult is the signed seal (attest.PredicateSeal).
type SealResult struct {
	Seal     attest.Envelope `json:"seal"`
	Executor string          `json:"executor"`
}
