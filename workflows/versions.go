package workflows

// Versions of the Release workflow: every workflow.GetVersion change id and
// the version values compared against it, with what each changed. A release
// keeps the version it recorded when it first passed the call, so old
// histories replay as they ran.
//
// New releases take one call, changeRelease; the five change ids below it
// are asked only by releases that recorded no changeRelease marker (every
// release before it), and a new release runs with each at its latest.
// Each GetVersion call costs a marker event and a TemporalChangeVersion
// upsert (an event and a visibility write on the server): five per release
// before changeRelease, one since. Add a new change as the next version value
// of changeRelease, never as a new id.
//
// Order matters within one change id: a new value is the next number, and
// the GetVersion call's maximum is raised to it.
const (
	// changeRelease: the one change id of new releases.
	changeRelease = "release"
	// versionOneMarker: every earlier change at its latest (search
	// attributes batched, signed attestations, git sources, promotions with
	// rule codes, the seal closing the trail), with one marker instead of five.
	versionOneMarker = 1
	// versionLeanNotices: a decision that decides its gate sends no
	// "decision" notice (the gate's outcome notice, sent in the same workflow
	// task, carries the same state and signers), and an approved gate's
	// outcome notice is sent after the next stage's first command, so the
	// approval prompt is not queued behind it on the approval role's queue.
	versionLeanNotices = 2
	// versionScopedStatements: decisions and cancels count only when scoped
	// to this release's service, environment and run, an emergency
	// declaration only when scoped to its service and environment (the one
	// judge, package judge, verifies them); the follow-up gate of an
	// emergency is not signed by who signed an earlier gate; a rollback
	// after a failed verify carries the deploy role's receipt of it.
	versionScopedStatements = 3
	// versionSignedCommits: a promotion into an environment whose policy
	// says commits: signed takes only a change whose every commit a person
	// of the policy signed, and a promoted change whose authors leave a
	// gate short of its quorum fails with that reason (the build role
	// judges both for what it builds).
	versionSignedCommits = 4
	// versionFailedEnds: a release that did not deploy ends, once its trail
	// is sealed and its outcome notified, as a failed workflow (a cancelled
	// one as a cancelled workflow) carrying its ReleaseResult in the error's
	// details (api.NotDeployed): the Temporal UI's list and `temporal
	// workflow list` no longer show a refused release as Completed. Before
	// it, every release completed with its result.
	versionFailedEnds = 5
	// latestRelease is the maximum the GetVersion call of changeRelease
	// takes: its newest version.
	latestRelease = versionFailedEnds

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
