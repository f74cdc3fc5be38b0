package api

import (
	"time"

	"github.com/foureyes/foureyes/attest"
)

// The approval role's gateway: its HTTP paths and bodies. Every POST is
// authenticated by a bearer token; no body can name an identity.
const (
	PathDecisions = "/v1/decisions"
	// PathBatch: one approval of one change for several queued releases of
	// the same artifact (staging and prod, say). Each release is still
	// decided on its own: its own signed decision, judged by its own gate,
	// recorded in its own trail.
	PathBatch       = "/v1/decisions/all-for-digest"
	PathCancels     = "/v1/cancels"
	PathEmergencies = "/v1/emergencies"
	// PathStatements hands the caller the statement of a decision to sign
	// with their own key (a gate whose proof is "approver").
	PathStatements = "/v1/statements"
	// PathPages mints the caller's link to their approval page for a
	// release's gate, or to their passkey enroll page.
	PathPages             = "/v1/pages"
	PathSlackInteractions = "/slack/interactions"
)

// StarterUserAgent starts the User-Agent of the release manager's CLI; its
// cancels are attested as channel "cli".
const StarterUserAgent = "foureyes-starter"

// DecisionRequest is the body of POST /v1/decisions. It cannot name an
// identity: the identity is the one the bearer token belongs to.
type DecisionRequest struct {
	ReleaseID string `json:"release_id"`
	Gate      string `json:"gate"`
	Verdict   string `json:"verdict"`
	Comment   string `json:"comment"`
	RequestID string `json:"request_id"`
	// Proof (optional) is the caller's own signed statement of this
	// decision (from PathStatements): where the gate's proof is "approver"
	// the decision counts only with it. Gate, verdict, comment and request
	// id are then read from the statement.
	Proof *attest.Proof `json:"proof,omitempty"`
}

// StatementOffer answers PathStatements: the statement of the caller's
// decision, rendered by the approval role from the release's signed build
// provenance, which comes along so that the signer's own tool can check
// it against its own copy of the policy before signing.
type StatementOffer struct {
	Statement  []byte          `json:"statement"`
	Provenance attest.Envelope `json:"provenance"`
	// Promotes is the release whose artifact this one promotes ("" when
	// it built its own): its provenance is that release's.
	Promotes string `json:"promotes,omitempty"`
	// Proof is the gate's proof setting: "approver" or "gateway".
	Proof string `json:"proof"`
}

// PageRequest is the body of POST /v1/pages: Purpose "approve" (with
// ReleaseID and Gate) or "enroll".
type PageRequest struct {
	Purpose   string `json:"purpose"`
	ReleaseID string `json:"release_id,omitempty"`
	Gate      string `json:"gate,omitempty"`
}

// PageLink is a link to the caller's own page: it opens the page until
// Expires, for the person it was minted for only (an HMAC of the gateway's).
type PageLink struct {
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// BatchRequest is the body of POST /v1/decisions/all-for-digest: the
// decision of DecisionRequest for ReleaseID and every one of Releases,
// which must all run the artifact ReleaseID runs.
type BatchRequest struct {
	DecisionRequest
	Releases []string `json:"release_ids"`
}

// Answer is the JSON body of a /v1/decisions or /v1/cancels response once
// the caller is authenticated and the body is valid (a cancel leaves Gate and
// GateState empty). Error is set (and Outcome empty) when the request did not
// reach the workflow. Other errors answer {"error": "..."}.
type Answer struct {
	Outcome string `json:"outcome"`
	// Rule names what refused it (a 403) or closed the gate (a 409) by
	// code, for programs; Reason says it for people and may be reworded.
	Rule      Rule   `json:"rule,omitempty"`
	Reason    string `json:"reason"`
	ReleaseID string `json:"release_id"`
	Gate      string `json:"gate"`
	Identity  string `json:"identity"`
	RequestID string `json:"request_id"`
	GateState string `json:"gate_state"`
	Error     string `json:"error,omitempty"`
}

// BatchAnswer reports the decision per release, the named one first.
type BatchAnswer struct {
	Digest  string   `json:"artifact_digest"`
	Answers []Answer `json:"answers"`
	Error   string   `json:"error,omitempty"`
}

// CancelReleaseRequest is the body of POST /v1/cancels. Like a decision,
// it cannot name an identity: the caller is the bearer token's identity.
type CancelReleaseRequest struct {
	ReleaseID string `json:"release_id"`
	Reason    string `json:"reason"`
	RequestID string `json:"request_id"`
}

// EmergencyRequest is the body of POST /v1/emergencies: the caller (the
// token's identity, a release manager) declares the release about to start
// under ReleaseID an emergency. The answer carries the signed declaration
// the release is started with (ReleaseRequest.Emergency).
type EmergencyRequest struct {
	ReleaseID string `json:"release_id"`
	// Service and Environment scope the declaration: it counts for no
	// other service or environment (attest.Scope).
	Service     string `json:"service"`
	Environment string `json:"environment"`
	Reason      string `json:"reason"`
	RequestID   string `json:"request_id"`
}

// EmergencyAnswer is the JSON body of a successful /v1/emergencies call.
type EmergencyAnswer struct {
	ReleaseID string          `json:"release_id"`
	Identity  string          `json:"identity"`
	Envelope  attest.Envelope `json:"envelope"`
}

// ScopedRequestID is the request id the workflow sees: the caller's, under
// the caller's identity, so that nobody can take over (or pre-empt) another
// identity's request id. Policy identities hold no "/".
func ScopedRequestID(identity, requestID string) string { return identity + "/" + requestID }

// Action ids of a Slack prompt's buttons: the gateway acts only on these.
const (
	SlackActionApprove = "foureyes_approve"
	SlackActionReject  = "foureyes_reject"
	// SlackActionApproveAll approves the gate of this release and of the
	// other open prompts of the same artifact (the button's Releases).
	SlackActionApproveAll = "foureyes_approve_all"
	// SlackActionSign, at a gate whose proof is "approver", answers the
	// clicker privately with the link to their own approval page: a click
	// cannot carry their signature.
	SlackActionSign = "foureyes_sign"
)

// SlackButton is the value of a prompt's buttons: the release, the gate and
// the prompt a click answers. The gateway trusts it only after checking
// Slack's signature, and the workflow still judges the gate itself.
type SlackButton struct {
	ReleaseID string `json:"release_id"`
	Gate      string `json:"gate"`
	Prompt    string `json:"prompt"`
	// Releases are the other releases of the same artifact waiting at the
	// same gate (the "approve for staging and prod" button only).
	Releases []string `json:"releases,omitempty"`
}
