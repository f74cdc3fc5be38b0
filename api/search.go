package api

import "go.temporal.io/sdk/temporal"

// Custom search attributes: what an operator finds releases by in the
// Temporal UI and CLI. They must be registered on the namespace (the dev
// server of `go run ./stack` and docker-compose's admin tools do it).
var (
	AttrService     = temporal.NewSearchAttributeKeyKeyword("ReleaseService")
	AttrEnvironment = temporal.NewSearchAttributeKeyKeyword("ReleaseEnvironment")
	AttrStatus      = temporal.NewSearchAttributeKeyKeyword("ReleaseStatus")
	AttrRequester   = temporal.NewSearchAttributeKeyKeyword("ReleaseRequester")
	AttrCommit      = temporal.NewSearchAttributeKeyKeyword("ReleaseCommit")
	AttrAwaiting    = temporal.NewSearchAttributeKeyKeywordList("ReleaseAwaiting") // who may still sign the open gate
	AttrEmergency   = temporal.NewSearchAttributeKeyBool("ReleaseEmergency")       // a break-glass release
	AttrPromotes    = temporal.NewSearchAttributeKeyKeyword("ReleasePromotes")     // the release it promotes
)

// SearchAttributes lists every custom search attribute as NAME=TYPE, the
// form `temporal server start-dev --search-attribute` takes.
var SearchAttributes = []string{
	"ReleaseService=Keyword", "ReleaseEnvironment=Keyword", "ReleaseStatus=Keyword",
	"ReleaseRequester=Keyword", "ReleaseCommit=Keyword", "ReleaseAwaiting=KeywordList",
	"ReleaseEmergency=Bool", "ReleasePromotes=Keyword",
}

// VisibleStatus is the ReleaseStatus of an internal status: the automated
// checks count as awaiting review (the review stage has begun), a deploy
// held by a freeze window as deploying (all gates passed).
func VisibleStatus(status string) string {
	switch status {
	case StatusReviewing:
		return StatusAwaitingReview
	case StatusFrozen:
		return StatusDeploying
	}
	return status
}

// StartAttributes are the search attributes a release is started with.
func StartAttributes(req ReleaseRequest) temporal.SearchAttributes {
	attrs := []temporal.SearchAttributeUpdate{AttrService.ValueSet(req.Service),
		AttrEnvironment.ValueSet(req.Environment), AttrStatus.ValueSet(StatusBuilding),
		AttrRequester.ValueSet(req.Requester), AttrCommit.ValueSet(req.Commit), AttrAwaiting.ValueSet([]string{})}
	if req.Promotes != nil { // only then: namespaces registered before them still start releases
		attrs = append(attrs, AttrPromotes.ValueSet(req.Promotes.Release))
	}
	if len(req.Emergency) > 0 {
		attrs = append(attrs, AttrEmergency.ValueSet(true))
	}
	return temporal.NewSearchAttributes(attrs...)
}
