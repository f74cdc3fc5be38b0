// Package audit is foureyes' tamper-evident audit trail: entries chained by
// SHA-256, each over the previous entry's hash and its own canonical JSON.
//
// The workflow builds the chain deterministically (no clock but workflow
// time, no map iteration), so replaying a release rebuilds the same chain.
package audit

import (
	"encoding/json"
	"time"
)

// Event types recorded in the trail.
const (
	EventReleaseStarted  = "release_started"
	EventStageStarted    = "stage_started"
	EventStageFinished   = "stage_finished"
	EventStageFailed     = "stage_failed"
	EventGateOpened      = "gate_opened"
	EventGateReminder    = "gate_reminder"
	EventDecision        = "decision_accepted"
	EventDecisionRefused = "decision_refused"
	EventGateApproved    = "gate_approved"
	EventGateRejected    = "gate_rejected"
	EventGateExpired     = "gate_expired"
	EventFreezeWait      = "freeze_wait"
	EventDeploy          = "deploy"
	EventVerify          = "verify"
	EventRollback        = "rollback"
	EventCancelRequested = "cancel_requested"
	EventCancelRefused   = "cancel_refused"
	EventReleaseEnded    = "release_ended"
	EventSealed          = "audit_sealed" // last entry: the orchestrator's signed seal over the head before it
	EventRefusalsCapped  = "refusals_capped"
	// EventEmergency: a release manager's signed break-glass declaration.
	EventEmergency = "emergency_declared"
	// EventPromotionChecked: the environment's promotion rule was judged
	// (outcome met, refused, waiting or skipped).
	EventPromotionChecked = "promotion_checked"
)

// Entry is one link of the chain. Field order is the canonical JSON order.
type Entry struct {
	Seq      int       `json:"seq"`
	Time     time.Time `json:"time"`
	Release  string    `json:"release"`  // workflow id
	Type     string    `json:"type"`     // one of the Event constants
	Stage    string    `json:"stage"`    // code, review, approve, deploy, or ""
	Actor    string    `json:"actor"`    // identity that decided or asked, if any
	Executor string    `json:"executor"` // worker identity that ran the step, if any
	Channel  string    `json:"channel"`  // api, slack, console, cli, or ""
	Outcome  string    `json:"outcome"`  // accepted, refused, ok, failed, ...
	// Rule is the code of the rule that refused a decision (decision_refused
	// entries of releases recorded since rule codes; omitted otherwise, so
	// older entries hash as they did). Detail says it for people.
	Rule   string `json:"rule,omitempty"`
	Detail string `json:"detail"` // human-readable reason or result
	// Envelope is the signed fact the entry rests on (a DSSE envelope of an
	// in-toto statement), present only when it verified when recorded.
	Envelope json.RawMessage `json:"envelope,omitempty"`
	// Proof is a person's own signed statement the entry rests on (the
	// requester's signed request on release_started, attest.Proof), so
	// that an auditor checks it against the policy's keys too.
	Proof json.RawMessage `json:"proof,omitempty"`
	Prev  string          `json:"prev"` // hash of the previous entry ("" for the first)
	Hash  string          `json:"hash"` // SHA-256 over the entry with Hash empty
}

// API (implemented in chain.go):
//
//	(c *Chain) Append(e Entry) Entry   sets Seq, Prev and Hash; returns the sealed entry
//	(c *Chain) Entries() []Entry
//	(c *Chain) Head() string           hash of the last entry
//	HashEntry(e Entry) string          hex SHA-256 of canonical JSON with Hash=""
//	Export(w io.Writer, entries []Entry) error    JSON lines, canonical form
//	Verify(r io.Reader) (n int, err error)
//	    checks every line is canonical JSON of an Entry, Seq runs 1,2,3..,
//	    Prev links and Hash holds; error names the first entry that does not
//	    hold (line number, seq and type) and why. n = entries verified.
//	    Proves internal consistency only: a cut or re-chained file passes.
//	VerifySigned(r io.Reader, ring attest.KeyRing) (Report, error)
//	    Verify, plus every envelope verified with the role that owns the
//	    fact, the predicate type of the entry, bound to the entry's release,
//	    one policy and the attested artifact; the chain must end with an
//	    audit_sealed entry whose orchestrator seal signs the head before it.
//	ExportInToto(w io.Writer, entries []Entry) (int, error)
//	    the entries' envelopes as an in-toto bundle (.intoto.jsonl)
//
// Chain is a plain value (entries slice) so it can live in workflow state.

// Trail answers the release workflow's audit query: the chain as recorded.
type Trail struct {
	Entries []Entry `json:"entries"`
}
