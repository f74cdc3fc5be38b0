package api

import (
	"time"

	"github.com/foureyes/foureyes/attest"
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
	// RequestProof (optional) is the requester's own signed statement of
	// this request (attest.PredicatePersonalRequest). Where the
	// environment's request_proof is "requester" the release starts only
	// with it, and the requester is its signer.
	RequestProof *attest.Proof `json:"request_proof,omitempty"`
}

// PersonalRequest is the statement a requester signs for req under id.
func PersonalRequest(id string, req ReleaseRequest, emergency string, at time.Time) attest.PersonalRequest {
	pr := attest.PersonalRequest{Release: id, Service: req.Service, Environment: req.Environment, Commit: req.Commit,
		Authors: req.Authors, Requester: req.Requester, Emergency: emergency, At: at}
	if req.Promotes != nil {
		pr.Promotes = req.Promotes.Release
	}
	return pr
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
