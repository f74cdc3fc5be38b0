package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Versions of the Release workflow. A release asks one change id,
// changeRelease, once, and keeps the version it recorded then, so that its
// history replays as it ran. Add a change as the next version value below
// and raise latestRelease to it; never add a change id.
//
// A worker runs releases from versionFloor up. A release that recorded an
// older version (or none: every release before changeRelease) is refused on
// replay: operators drain those releases on the workers that started them
// before they upgrade (docs/operators.md). Raising the floor deletes the
// branches of the versions below it: the main path has one way.
const (
	// changeRelease: the one change id of the Release workflow.
	changeRelease = "release"

	// Versions below the floor, named for the histories that hold them:
	// versionOneMarker (one marker instead of five change ids),
	// versionLeanNotices (no "decision" notice for a deciding decision; an
	// approved gate's outcome notice after the next stage's first command),
	// versionScopedStatements (decisions, cancels and emergencies scoped to
	// their release, judged by package judge; the strict follow-up; a
	// rollback carries the failed verify's receipt).
	versionOneMarker        = 1
	versionLeanNotices      = 2
	versionScopedStatements = 3

	// versionSignedCommits: a promotion into an environment whose policy
	// says commits: signed takes only a change whose every commit a person
	// of the policy signed, and a promoted change whose authors leave a
	// gate short of its quorum fails with that reason.
	versionSignedCommits = 4

	// versionFloor is the oldest version this worker replays.
	versionFloor = versionSignedCommits
	// versionFailedEnds: a release that did not deploy ends, once its trail
	// is sealed and its outcome notified, as a failed workflow (a cancelled
	// one as a cancelled workflow) carrying its ReleaseResult in the error's
	// details (api.NotDeployed): the Temporal UI's list and `temporal
	// workflow list` no longer show a refused release as Completed. Before
	// it, every release completed with its result.
	versionFailedEnds = 5
	// versionLeanVisibility: the search attributes are written once per gate
	// transition. What the start request set (api.StartAttributes) is not
	// written again, an absent ReleaseAwaiting counts as nobody awaited, and a
	// status change into a gate's stage whose gate has not opened yet (the
	// automated checks before the review gate, the moment between two gates)
	// waits for the gate's opening, written with it in one upsert. Before it,
	// every published state change that differed was upserted
	// (docs/benchmarks.md, issue 26).
	versionLeanVisibility = 6
	// versionLeanHistory: each signed fact is in the history once. The
	// deploy steps carry no bundle: the deploy role reads the provenance,
	// review, decisions, cancels and emergency declaration from the calling
	// run's own history (the Build and Review results, the start request,
	// the Updates), as it already did for all but the first two. The pinned
	// policy comes gzip-compressed (LoadPolicyInput.Gzip). Before it, every
	// deploy step carried the whole bundle and the policy came as it is
	// (docs/benchmarks.md, issue 26).
	versionLeanHistory = 7
	// versionDeployOutlivesLostWorkers: deploy and verify get deployAttempts
	// attempts instead of 3. A deploy role killed mid-step costs an attempt
	// (its heartbeat times out) without any verdict: the deploy role's
	// verdicts are non-retryable errors, and a retried deploy resumes its
	// command, which runs at most once (package once). Before it, three lost
	// workers in a row rolled a release back (the 1,000-release soak, issue
	// 27).
	versionDeployOutlivesLostWorkers = 8
	// versionAllNoticesSent: before it closes, a release waits (at most two
	// minutes) for every notice in flight, not only the last: an approved
	// gate's outcome notice, sent from a coroutine after the next stage's
	// first command, could still be queued when the release ended, and a
	// closed workflow's untaken activity task is dropped (the Slack message
	// kept saying "awaiting").
	versionAllNoticesSent = 9
	// versionPolicyBytes: LoadPolicy answers the gzip-compressed policy file
	// alone, a binary payload (LoadPolicyInput.Bytes), instead of a JSON
	// snapshot holding it base64-encoded: 6.8 → 5.1 KB of every release's
	// history (docs/benchmarks.md, issue 26). What the release pins is the
	// same: the hash and parse of the bytes it decompressed.
	versionPolicyBytes = 10
	// versionLeanNoticeInputs: a gate's prompt is the one notice of the
	// gate that carries the release's facts (service, commit, authors,
	// change, digest, policy hash, channel, deadline ...); its reminder,
	// decisions and outcomes carry only what changed and the gate they
	// update (api.Notification.Lean), and the approval role takes the rest
	// from the prompt (cached, else read from the calling run's history).
	// Empty fields are omitted. Before it, every notice carried every fact
	// (docs/benchmarks.md, issue 26). Upgrade the approval role first
	// (docs/operators.md).
	versionLeanNoticeInputs = 11
	// versionPublishAfterHandOff: the task that decides a gate publishes no
	// search attributes; they are written a task later, once the gate's
	// outcome notice sent in it has completed (holdPublishing): the
	// visibility write no longer races the hand-off of the next stage's
	// activity. An ending release writes its final ones in the task that
	// closes it (holdUntilClose), where the server makes no write of its own
	// for them: one visibility write per release fewer (docs/benchmarks.md,
	// issue 26).
	versionPublishAfterHandOff = 12
	// versionPolicyDictionary: LoadPolicy answers the policy file
	// DEFLATE-compressed with a preset dictionary, the sample policy
	// (LoadPolicyInput.Dict, policy.DictionarySampleV1), instead of gzip:
	// the stack's policy takes 0.3 KB of every release's history instead of
	// 4.9 KB; one written without the sample's comments and with its own
	// tokens and keys 0.8 KB instead of 2.0 (docs/benchmarks.md, issue 26).
	// What the release pins is the same: the hash and parse of the bytes it
	// decompressed.
	versionPolicyDictionary = 13
	// latestRelease is the version new releases take: the newest.
	latestRelease = versionPolicyDictionary
)

// ErrTypeBelowFloor is the type of the error a release below versionFloor
// stops with.
const ErrTypeBelowFloor = "ReleaseBelowVersionFloor"

// releaseVersion asks changeRelease. A release whose history recorded a
// version below the floor cannot be replayed by this code (its branches are
// gone): it panics with a non-retryable error that names the floor, which
// fails the workflow task and leaves the release waiting, unchanged, for a
// worker of its own version (a returned error would only surface as a
// nondeterminism error naming no version).
func releaseVersion(ctx workflow.Context) workflow.Version {
	v := workflow.GetVersion(ctx, changeRelease, workflow.DefaultVersion, latestRelease)
	if v < versionFloor {
		panic(belowFloor(v))
	}
	return v
}

// belowFloor is the refusal of a release that recorded version v.
func belowFloor(v workflow.Version) error {
	recorded := fmt.Sprintf("version %d", v)
	if v == workflow.DefaultVersion {
		recorded = "no version (started before changeRelease)"
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"drain releases started before v%d first: this release recorded %s of change %q, and this worker runs v%d to v%d",
		versionFloor, recorded, changeRelease, versionFloor, latestRelease), ErrTypeBelowFloor, nil)
}
