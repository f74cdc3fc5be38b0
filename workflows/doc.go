// Package workflows holds the Release workflow: four separated duties (code,
// review, approve, deploy), each an activity on its own role's task queue,
// with policy gates between them that move only on signed decisions. Its
// contract with the other processes (names, request, result and query
// types) is package api; the one judge of signed statements is package judge.
//
// A newcomer's map, one part a file or two:
//
//   - release.go: Release and its pipeline, stage by stage, to the seal;
//     state.go: the release's state (≤ 15 fields) and its runtime handles.
//   - stages.go, promotion.go, emergency.go, gatestage.go, seal.go: what the
//     release does at each step (activities, then what their signed
//     statements say).
//   - pin.go, verify.go: the pinned policy and keys; each role's statement
//     verified under them.
//   - source.go, change.go: the change (git, authors) and how it is shown.
//   - gate.go, gates.go: a gate judges decisions; gates keep every gate
//     and every outcome.
//   - inbox.go, decisions.go, refusals.go: decisions and cancels as they
//     arrive (Updates; signals are refused).
//   - queries.go, visibility.go, notify.go, metrics.go: how the release is
//     shown (queries, details, search attributes, notices, metrics).
//   - versions.go: the one change id, its versions, and the version floor
//     below which a release is refused (docs/operators.md).
package workflows
