// Package faults proves foureyes' reliability and security promises against
// the real stack (foureyes' Temporal server and each role its own process):
//
//   - TestFaults: releases while role processes are SIGKILLed at random
//     moments (the deploy worker mid-deploy included) and the server is
//     stopped and restarted on its SQLite file; every release ends as its
//     decisions call for, the deploy command runs once per deployed release,
//     no decision is lost, every audit chain verifies.
//   - TestClusterFaults: the same on the cluster (PostgreSQL, Temporal as four
//     services with mTLS): role kills, then history, matching or PostgreSQL
//     SIGKILLed mid-release and restarted (`make cluster-faults`: longer).
//   - TestHostileRequests: hostile calls to the gateway are refused with the
//     right status and reason, and signal nothing.
//   - TestRealStack/Attacks: the attacks of a compromised component or any
//     namespace client, each refused with nothing deployed: forged
//     decisions (each approver, each channel; signal, unsigned Update,
//     Update signed by a fresh key or by the build role's key), forged
//     cancels, a rogue workflow scheduling Deploy, `activity complete` on
//     Build and Review, a rogue LoadPolicy poller, envelopes replayed onto
//     another release or gate, a cut or re-chained audit export (the real
//     starter binary), and a flood of 10,000 refused decisions.
//   - TestSecretsStayApart: no role process, and no deploy command, holds
//     another role's secret or the bot token hashes.
//
// `make faults` runs them verbosely; `go test ./...` runs them too (not in
// -short mode). The figures go to $FOUREYES_FIGURES (see internal/figures).
package faults
