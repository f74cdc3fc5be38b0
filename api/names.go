// Package api is foureyes' contract between processes: the task queues,
// the workflow's name and its update, query and signal names, the search
// attributes, and every type that crosses a process boundary (the workflow's
// input, result and query answers, the activities' inputs and results, the
// gateway's request and answer bodies). Every role and the release manager's
// CLI import it; it imports no implementation package, so a client links
// neither the workflow, the activities nor Slack.
//
// Names and JSON field names are recorded in workflow histories and used by
// running stacks: they never change.
package api

import (
	"regexp"
	"strings"
)

// Task queues, one per role. Each role's worker polls only its own.
const (
	QueueOrchestrator = "foureyes-orchestrator"
	QueueBuild        = "foureyes-build"
	QueueReview       = "foureyes-review"
	QueueApproval     = "foureyes-approval"
	QueueDeploy       = "foureyes-deploy"
)

// WorkflowRelease is the workflow type name; clients start it by name.
const WorkflowRelease = "Release"

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

// ApplicationError types a caller tells failures apart by.
const (
	// ErrTypeRefusalsCapped: an update refused without being recorded,
	// because its sender already reached the release's cap of refusals.
	ErrTypeRefusalsCapped = "RefusalsCapped"
	// ErrTypeNotReady: an update refused because the release has not
	// pinned its policy yet; the same request may be sent again.
	ErrTypeNotReady = "NotReady"
	// ErrTypeDeployRefused: the deploy role found the release's signed
	// bundle short of what its own policy requires, and ran nothing
	// (non-retryable: the same bundle is refused again).
	ErrTypeDeployRefused = "DeployRefused"
	// ErrTypeCallerUnavailable: the deploy role could not read the calling
	// run from the server (down, restarting): no refusal, retried.
	ErrTypeCallerUnavailable = "CallerUnavailable"
)

var (
	nameRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	commitRE   = regexp.MustCompile(`^[0-9a-f]{40}$`)
	revisionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/+-]{0,199}$`)
)

// NameRule says in words what ValidName accepts, for error messages.
const NameRule = "lowercase letters, digits and '-', starting with a letter or digit, at most 63 characters"

// ValidName reports whether s may name a service or an environment. Such
// names become file names, paths and command arguments on the deploy host,
// so the policy, the CLI, the gateway and every role accept exactly these.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// ValidCommit reports whether s is a full commit SHA (40 lowercase hex).
func ValidCommit(s string) bool { return commitRE.MatchString(s) }

// ValidRevision reports whether s may name a release's commit: a full or
// short SHA, a tag or a branch (refs/... too); never an option, never a
// revision expression (no "..", "@{", "^", "~", ":").
func ValidRevision(s string) bool {
	return revisionRE.MatchString(s) && !strings.Contains(s, "..") && !strings.Contains(s, "//") &&
		!strings.HasSuffix(s, "/") && !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, ".lock")
}
