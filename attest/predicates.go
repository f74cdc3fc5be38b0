package attest

import (
	"strings"
	"time"
)

// Predicate types, one per kind of fact.
const (
	PredicateProvenance = "https://slsa.dev/provenance/v1"
	PredicateReview     = "https://foureyes.dev/attestations/review/v1"
	PredicateDecision   = "https://foureyes.dev/attestations/decision/v1"
	PredicateCancel     = "https://foureyes.dev/attestations/cancel/v1"
	PredicateDeploy     = "https://foureyes.dev/attestations/deploy-receipt/v1"
	PredicateSeal       = "https://foureyes.dev/attestations/audit-seal/v1"
	// BuildType is the SLSA buildType of foureyes' build role.
	BuildType = "https://foureyes.dev/build/v1"
)

func short(predicateType string) string {
	switch predicateType {
	case PredicateProvenance:
		return "build provenance"
	case "":
		return "untyped"
	}
	i := strings.LastIndex(strings.TrimSuffix(predicateType, "/v1"), "/")
	return strings.TrimSuffix(predicateType[i+1:], "/v1")
}

// Binding ties a fact to one release under one pinned policy.
type Binding struct {
	Release      string `json:"release"`
	PolicySHA256 string `json:"policy_sha256"`
}

// Check returns a CodeMisbound error unless b is want.
func (b Binding) Check(want Binding) error {
	switch {
	case b.Release != want.Release:
		return fail(CodeMisbound, "bound to release %q, not %q", b.Release, want.Release)
	case b.PolicySHA256 != want.PolicySHA256:
		return fail(CodeMisbound, "bound to policy sha256:%s, not the pinned sha256:%s", b.PolicySHA256, want.PolicySHA256)
	}
	return nil
}

// CheckSubject returns a CodeMisbound error unless the fact is about digest.
func (f Fact) CheckSubject(want Subject) error {
	if f.Subject.SHA256 != want.SHA256 {
		return fail(CodeMisbound, "about %s sha256:%s, not sha256:%s", f.Subject.Name, f.Subject.SHA256, want.SHA256)
	}
	return nil
}

// Provenance is SLSA provenance v1 as the build role writes it.
type Provenance struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition: what was built, from which inputs.
type BuildDefinition struct {
	BuildType          string          `json:"buildType"`
	ExternalParameters BuildParameters `json:"externalParameters"`
}

// BuildParameters are the release's inputs to the build, as the build role received them.
type BuildParameters struct {
	Binding
	Service     string   `json:"service"`
	Environment string   `json:"environment"`
	Commit      string   `json:"commit"`
	Authors     []string `json:"authors"`
	Requester   string   `json:"requester"`
	ArtifactRef string   `json:"artifact_ref"`
}

// RunDetails: who built it, when.
type RunDetails struct {
	Builder  Builder       `json:"builder"`
	Metadata BuildMetadata `json:"metadata"`
}

// Builder is the build role's worker identity.
type Builder struct {
	ID string `json:"id"`
}

// BuildMetadata times the build.
type BuildMetadata struct {
	InvocationID string    `json:"invocationId"`
	StartedOn    time.Time `json:"startedOn"`
	FinishedOn   time.Time `json:"finishedOn"`
}

// Review is the review role's verdict on an artifact.
type Review struct {
	Binding
	Commit   string    `json:"commit"`
	Passed   bool      `json:"passed"`
	Findings []string  `json:"findings"`
	Reviewer string    `json:"reviewer"`
	At       time.Time `json:"at"`
}

// Evidence is what the approval role checked before it vouched for an identity.
type Evidence struct {
	Kind             string `json:"kind"`                        // "token" or "slack"
	TokenFingerprint string `json:"token_fingerprint,omitempty"` // first 16 hex of the token's SHA-256
	SlackTeam        string `json:"slack_team,omitempty"`
	SlackUser        string `json:"slack_user,omitempty"`
	ActionTS         string `json:"action_ts,omitempty"`
}

// Decision is one decision the approval role authenticated.
type Decision struct {
	Binding
	RequestID string    `json:"request_id"`
	Gate      string    `json:"gate"`
	Verdict   string    `json:"verdict"`
	Identity  string    `json:"identity"`
	Channel   string    `json:"channel"`
	Comment   string    `json:"comment"`
	Evidence  Evidence  `json:"evidence"`
	At        time.Time `json:"at"`
}

// Cancel is one cancel request the approval role authenticated.
type Cancel struct {
	Binding
	RequestID string    `json:"request_id"`
	Identity  string    `json:"identity"`
	Channel   string    `json:"channel"`
	Reason    string    `json:"reason"`
	Evidence  Evidence  `json:"evidence"`
	At        time.Time `json:"at"`
}

// Deploy steps a receipt can be for.
const (
	StepDeploy   = "deploy"
	StepVerify   = "verify"
	StepRollback = "rollback"
)

// Receipt is the deploy role's account of one step it ran.
type Receipt struct {
	Binding
	Step        string    `json:"step"`
	Service     string    `json:"service"`
	Environment string    `json:"environment"`
	Commit      string    `json:"commit"`
	OK          bool      `json:"ok"`
	Output      string    `json:"output"`
	Deployer    string    `json:"deployer"`
	At          time.Time `json:"at"`
}

// Seal is the orchestrator's signature over a release's final audit chain head.
type Seal struct {
	Binding
	Head    string    `json:"head"`
	Entries int       `json:"entries"`
	Status  string    `json:"status"`
	Sealer  string    `json:"sealer"`
	At      time.Time `json:"at"`
}

// SealSubject names a release's audit chain by its head hash.
func SealSubject(release, head string) Subject {
	return Subject{Name: "audit:" + release, SHA256: head}
}
