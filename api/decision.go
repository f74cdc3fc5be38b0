package api

import (
	"time"

	"github.com/foureyes/foureyes/attest"
)

// Gates a decision names. A release passes the review gate, then the
// approval gate; policy rules are written for these two.
const (
	GateReview   = "review"
	GateApproval = "approval"
	// GateFollowUp is the review gate an emergency's deploy opens: one
	// eligible reviewer signs it off (GateReview's rule, quorum 1, no deadline).
	GateFollowUp = "follow_up"
)

// Gate states, as status, decision outcomes and notifications report them.
const (
	GateOpen     = "open"
	GateApproved = "approved"
	GateRejected = "rejected"
	GateExpired  = "expired"
	GateClosed   = "closed" // ended by cancel
)

// StageOfGate is the stage a gate belongs to.
func StageOfGate(gate string) string {
	if gate == GateApproval {
		return StageApprove
	}
	return StageReview
}

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
	// ChannelPage: the approval page, with the person's passkey.
	ChannelPage = "page"
)

// Decision outcomes reported back to the caller.
const (
	OutcomeAccepted   = "accepted"
	OutcomeRefused    = "refused"
	OutcomeGateClosed = "gate_closed"
	OutcomePending    = "pending" // not (yet) processed by the workflow
)

// Decision is the payload of SignalDecision.
type Decision struct {
	RequestID string `json:"request_id"` // a retried delivery of the same id counts once
	Gate      string `json:"gate"`       // GateReview, GateApproval or GateFollowUp
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
	// Rule is the code of what refused it ("" when accepted or pending);
	// Reason says it for people.
	Rule      Rule   `json:"rule,omitempty"`
	Reason    string `json:"reason"`
	Gate      string `json:"gate"`
	GateState string `json:"gate_state"` // open, approved, rejected, expired, closed
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
	Identity string    `json:"identity"`
	Gate     string    `json:"gate"`
	Channel  string    `json:"channel"`
	Rule     Rule      `json:"rule,omitempty"` // code of the rule that refused it
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// ExplainResult answers QueryExplain: who could still sign the open gate.
type ExplainResult struct {
	Gate       string        `json:"gate"`
	Quorum     int           `json:"quorum"`
	Signed     []string      `json:"signed"`
	Identities []Eligibility `json:"identities"`
}

// Eligibility is one identity's standing at a gate (policy.Explain).
type Eligibility struct {
	Identity string `json:"identity"`
	Kind     string `json:"kind"` // "human" or "bot"
	Eligible bool   `json:"eligible"`
	Rule     Rule   `json:"rule,omitempty"` // the rule that makes it ineligible
	Reason   string `json:"reason"`
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
	RequestID string `json:"request_id"`
	Outcome   string `json:"outcome"`        // accepted, refused
	Rule      Rule   `json:"rule,omitempty"` // code of what refused it
	Reason    string `json:"reason"`
}

// Binding answers QueryBinding: what the approval role binds a decision to.
type Binding struct {
	ReleaseID      string `json:"release_id"`
	PolicyHash     string `json:"policy_hash"`
	ArtifactDigest string `json:"artifact_digest"` // "" before the build is attested
	OpenGate       string `json:"open_gate"`
	Signed         bool   `json:"signed"` // the release takes only signed decisions (Updates)
	// Service, Environment and RunID scope the statements signed for it
	// (attest.Scope); empty from releases before scoped statements.
	Service     string `json:"service,omitempty"`
	Environment string `json:"environment,omitempty"`
	RunID       string `json:"run_id,omitempty"`
	// Promotes is the release whose artifact this one promotes ("" when it
	// built its own).
	Promotes string `json:"promotes,omitempty"`
}
