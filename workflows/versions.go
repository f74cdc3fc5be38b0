package workflows

// Versions of the Release workflow: every workflow.GetVersion change id and
// the version values compared against it, with what each changed. A release
// keeps the version it recorded when it first passed the call, so old
// histories replay as they ran. Add a version value to an existing change
// id rather than a new id where the change follows from it: each new id
// costs a marker and a search-attribute upsert per release.
//
// Order matters within one change id: a new value is the next number, and
// the GetVersion call's maximum is raised to it.
const (
	// changeSearchAttributes: the release keeps search attributes and a memo
	// (upserts are commands); releases started before replay without.
	changeSearchAttributes = "search-attributes"
	// versionVisible: upserts search attributes and the memo at every audit entry.
	versionVisible = 1
	// versionBatchedPublish: publishes the state (current details, search
	// attributes) once per workflow task instead of at every audit entry: a
	// gate decision upserted up to three times in one task, each an event and
	// a visibility write on the server (docs/benchmarks.md).
	versionBatchedPublish = 2

	// changeSignedAttestations: stage results, decisions and cancels count
	// only with a valid signature of the role that owns them; decisions and
	// cancels arrive as Updates; the trail ends with a signed seal.
	changeSignedAttestations  = "signed-attestations"
	versionSignedAttestations = 1

	// changeSealClosesTrail: once the release has ended, nothing but the
	// seal joins its trail. A decision or cancel handled while the seal is
	// being signed, or after, is answered (the gate is closed) but not
	// recorded: an entry recorded then would fall between the head the seal
	// signs and the seal (the export would no longer verify) or after it.
	changeSealClosesTrail  = "seal-closes-trail"
	versionSealClosesTrail = 1

	// changeGitSources: the build role builds from the service's repository
	// and resolves the requested commit (SHA, short SHA, tag, branch) once;
	// the change since the last deployed commit (asked of the deploy role
	// first, the Deployed activity) and its authors come from git, attested
	// in the provenance; the author rule uses declared and attested authors,
	// and an email that maps to nobody blocks approvals unless the
	// environment allows it. Releases recorded before take the declared
	// commit and authors only.
	changeGitSources  = "git-sources"
	versionGitSources = 1

	// changePromotions: taken by releases with git sources only.
	changePromotions = "promotions"
	// versionPromotions: environments in order. A release may promote
	// another (same artifact and provenance, no rebuild); an environment's
	// promotion rule is judged on the deploy role's signed statement before
	// the review and again when the approval gate opens; a release may carry
	// a signed break-glass declaration; a rejection needs a comment; an
	// emergency's deploy is followed by a follow-up review gate.
	versionPromotions = 1
	// versionEmergencyRefused: a refused declaration sets ReleaseEmergency
	// (set at start from the request) back to false.
	versionEmergencyRefused = 2
	// versionRuleCodes: a refused decision's audit entry carries the code of
	// the rule that refused it (audit.Entry.Rule); entries of releases
	// before it hash as they did.
	versionRuleCodes = 3
	// latestPromotions is the maximum the GetVersion call of
	// changePromotions takes: its newest version.
	latestPromotions = versionRuleCodes
)
