package attest

import (
	"crypto/sha256"
	"encoding/hex"
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
	PredicateDeployed   = "https://foureyes.dev/attestations/deployed-state/v1"
	PredicateEmergency  = "https://foureyes.dev/attestations/emergency/v1"
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
	// ResolvedDependencies names the source: the repository and the commit
	// its ref resolved to (SLSA: uri git+REPO, digest gitCommit).
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies,omitempty"`
}

// ResourceDescriptor is an in-toto resource descriptor.
type ResourceDescriptor struct {
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest"`
}

// BuildParameters are the release's inputs to the build, as the build role
// received them, and — for a service with a repository — what it found in
// git: the commit its ref resolved to and the change's authors.
type BuildParameters struct {
	Binding
	Service     string `json:"service"`
	Environment string `json:"environment"`
	// Commit is the full SHA built: the ref resolved once by the build role.
	Commit      string   `json:"commit"`
	Authors     []string `json:"authors"` // declared by the requester
	Requester   string   `json:"requester"`
	ArtifactRef string   `json:"artifact_ref"`
	// Repository is the service's repository as the policy names it ("" for
	// a service without one, built from nothing but its declared commit).
	Repository string `json:"repository,omitempty"`
	Ref        string `json:"ref,omitempty"` // what the release asked for: SHA, short SHA, tag or branch
	// BuildCommand is the command that built the artifact in a clean
	// checkout ("" for the default build, git archive of the commit).
	BuildCommand string `json:"build_command,omitempty"`
	// Change is the commits and authors since the last deploy.
	Change *Change `json:"change,omitempty"`
	// Rebuild is set when this commit was built before into other bytes.
	Rebuild *Rebuild `json:"rebuild,omitempty"`
}

// Change is what a release deploys that is not deployed yet: the commits
// reachable from the release's commit and not from Base, the commit the
// deploy role last deployed to the service and environment (signed by it,
// PredicateDeployed). On a first release (nothing deployed), or a redeploy
// of the deployed commit, it is the commit alone.
type Change struct {
	Base        string `json:"base"`         // last deployed commit; "" on a first release
	BaseRelease string `json:"base_release"` // the release that deployed it
	// BaseIsAncestor is false when Base is not an ancestor of the commit
	// (history rewritten, force-pushed, another branch): the change is then
	// every commit since their merge base, a superset of what changed.
	BaseIsAncestor bool `json:"base_is_ancestor"`
	// Commits lists the change's commits, newest first, at most
	// MaxChangeCommits of them; CommitCount counts them all.
	Commits     []ChangeCommit `json:"commits"`
	CommitCount int            `json:"commit_count"`
	// Emails are every author, committer and Co-authored-by email of every
	// commit (lowercase, sorted, once each); Identities those the policy
	// maps to a person, Unmapped the others.
	Emails     []string `json:"emails"`
	Identities []string `json:"identities"`
	Unmapped   []string `json:"unmapped"`
	// Baseline is the commit a first release's change starts after (the
	// policy's baseline of the service; "" with Base set, or for the whole
	// history).
	Baseline string `json:"baseline,omitempty"`
	// Signers are the identities whose policy keys signed commits of the
	// change (sorted, once each); they are in Identities too: a signature
	// proves its signer, a declared name only adds to the authors.
	Signers []string `json:"signers,omitempty"`
	// Unproven counts the change's commits without a verified signature by
	// a policy identity: their authorship rests on what git's fields claim.
	Unproven int `json:"unproven,omitempty"`
}

// Signature statuses of a commit (ChangeCommit.Signature).
const (
	SignatureVerified    = "verified"    // signed by a key of the policy's identity Signer
	SignatureUnsigned    = "unsigned"    // no signature: authorship unproven
	SignatureUnknownKey  = "unknown_key" // a valid signature by a key no person of the policy lists
	SignatureBad         = "bad"         // does not verify for this commit (changed, or another commit's)
	SignatureUnsupported = "unsupported" // GPG, X.509 or SHA-1 ssh-rsa: not accepted
)

// MaxChangeCommits bounds the commits a provenance lists (all count).
const MaxChangeCommits = 250

// ChangeCommit is one commit of a change.
type ChangeCommit struct {
	SHA       string   `json:"sha"`
	Subject   string   `json:"subject"`
	Author    string   `json:"author"` // email
	Committer string   `json:"committer"`
	CoAuthors []string `json:"co_authors,omitempty"`
	// Signature is the commit's signature status (Signature* constants;
	// "" in provenance written before commits were verified), Signer the
	// identity whose key signed it, Why what was wrong with it.
	Signature string `json:"signature,omitempty"`
	Signer    string `json:"signer,omitempty"`
	Why       string `json:"signature_note,omitempty"`
}

// Proof says in words what a commit's signature proves, as people are shown it.
func (k ChangeCommit) Proof() string {
	switch k.Signature {
	case "":
		return ""
	case SignatureVerified:
		return "signed by " + k.Signer
	case SignatureUnsigned:
		return "unsigned: authorship unproven"
	}
	return k.Signature + ": authorship unproven (" + k.Why + ")"
}

// Contains reports whether the change lists commit sha.
func (c *Change) Contains(sha string) bool {
	if c == nil {
		return false
	}
	for _, k := range c.Commits {
		if k.SHA == sha {
			return true
		}
	}
	return false
}

// Rebuild records that a build of the same service and commit gave other
// bytes before: the build is not reproducible.
type Rebuild struct {
	Reproducible  bool     `json:"reproducible"`
	EarlierDigest []string `json:"earlier_digests"`
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

// Scope names the one release run a statement authorizes something in:
// its service and environment, and the workflow run the approval role
// sent it to (RunID; "" in an emergency declaration, which precedes the
// run). A statement whose scope is not the deploy's counts for nothing.
type Scope struct {
	Service     string `json:"service,omitempty"`
	Environment string `json:"environment,omitempty"`
	RunID       string `json:"run_id,omitempty"`
}

// CheckScope returns a CodeMisbound error unless s is want.
func (s Scope) CheckScope(want Scope) error {
	if s != want {
		return fail(CodeMisbound, "scoped to %s in %s (run %q), not %s in %s (run %q)",
			s.Service, s.Environment, s.RunID, want.Service, want.Environment, want.RunID)
	}
	return nil
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
	Scope
	RequestID string    `json:"request_id"`
	Gate      string    `json:"gate"`
	Verdict   string    `json:"verdict"`
	Identity  string    `json:"identity"`
	Channel   string    `json:"channel"`
	Comment   string    `json:"comment"`
	Evidence  Evidence  `json:"evidence"`
	At        time.Time `json:"at"`
	// Proof is the decider's own signed statement of this decision, which
	// the approval role relays as it got it. At a gate whose proof is
	// "approver" the decision counts only with it; then Identity, Gate,
	// Verdict, RequestID and Comment must be the statement's.
	Proof *Proof `json:"proof,omitempty"`
}

// Cancel is one cancel request the approval role authenticated.
type Cancel struct {
	Binding
	Scope
	RequestID string    `json:"request_id"`
	Identity  string    `json:"identity"`
	Channel   string    `json:"channel"`
	Reason    string    `json:"reason"`
	Evidence  Evidence  `json:"evidence"`
	At        time.Time `json:"at"`
}

// Emergency is a release manager's break-glass declaration for one
// release, authenticated by the approval role (subject: ReleaseSubject).
type Emergency struct {
	Binding
	Scope
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
	// RunID is the workflow run that asked for the step (the server says
	// which, not the caller).
	RunID string `json:"run_id,omitempty"`
}

// DeployedState is the deploy role's statement of what is deployed to one
// service in one environment, asked for by a release (bound to it) before
// its build: where the release's change begins.
type DeployedState struct {
	Binding
	Service     string    `json:"service"`
	Environment string    `json:"environment"`
	Commit      string    `json:"commit"`           // "" when nothing is deployed
	By          string    `json:"deployed_release"` // the release that deployed it
	Digest      string    `json:"digest"`
	Deployer    string    `json:"deployer"`
	At          time.Time `json:"at"`
	// DeployedAt and VerifiedAt are when the deployed release was deployed
	// and verified (zero: not verified): the evidence of promotion rules.
	DeployedAt time.Time `json:"deployed_at,omitzero"`
	VerifiedAt time.Time `json:"verified_at,omitzero"`
}

// DeploymentSubject names one service's deployment in one environment.
func DeploymentSubject(service, environment string) Subject {
	name := "deployment:" + environment + "/" + service
	sum := sha256.Sum256([]byte(name))
	return Subject{Name: name, SHA256: hex.EncodeToString(sum[:])}
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
