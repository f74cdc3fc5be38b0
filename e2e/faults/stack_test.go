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

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/figures"
	"github.com/foureyes/foureyes/internal/slackrec"
	"github.com/foureyes/foureyes/internal/stacktest"
	"github.com/foureyes/foureyes/policy"
)

// slackTeam is the Slack workspace whose clicks the stack's gateway takes.
const slackTeam = "T0FAULTS1"

// stackT is the stack every test of this package shares (started once):
// the harness's stack with what the suites gave its roles.
type stackT struct {
	*stacktest.Stack
	slack    *slackrec.Server  // the Slack Web API the approval role talks to
	secrets  map[string]string // secret variable -> value given to its role only
	counter  string            // the deploy command appends "<release> start|end" here
	envDir   string            // the deploy command writes its environment here
	revoked  string            // erin's token: its hash is not in the stack's policy
	keyFiles map[string]string // signing role -> its private key file
	policy   *policy.Policy
}

// TestRealStack starts one stack and runs the suites against it: hostile
// requests first (on a quiet stack), then the attacks of a compromised
// component or namespace client, then the faults, then the secrets check
// (over processes restarted by the attacks and the faults too).
func TestRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault, hostile and secrets suites need the real stack; skipped in -short mode")
	}
	api := slackrec.New(t)
	s, err := startStack(api.URL(), false)
	if s != nil {
		s.slack = api
		t.Cleanup(func() { s.stop(t) })
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Hostile", func(t *testing.T) { hostile(t, s) })
	t.Run("Attacks", func(t *testing.T) { attacks(t, s) })
	t.Run("Server", func(t *testing.T) { serverAuthz(t, s) })
	t.Run("Faults", func(t *testing.T) { faults(t, s) })
	t.Run("Secrets", func(t *testing.T) { secrets(t, s) })
}

// stop stops the stack and removes its folder, reporting first what the
// server counted over the whole run.
func (s *stackT) stop(t *testing.T) {
	logFile := s.ServerLog()
	s.Halt()
	if logFile != "" {
		reportServerTally(t, logFile)
	}
	s.Stop()
}

// serverTally is the line the server prints when it stops.
var serverTally = regexp.MustCompile(`(?m)^authz denied (\d+) / tried (\d+)$`)

// reportServerTally adds up the tallies of every server process of the run
// (the faults restart it).
func reportServerTally(t *testing.T, logFile string) {
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Errorf("server log: %v", err)
		return
	}
	denied, tried, runs := 0, 0, 0
	for _, m := range serverTally.FindAllStringSubmatch(string(data), -1) {
		d, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		denied, tried, runs = denied+d, tried+n, runs+1
	}
	if runs == 0 {
		t.Errorf("%s holds no authz tally: the server did not stop cleanly", logFile)
		return
	}
	figures.Report(t, "the server's own tally over the whole suite (%d server runs): authz denied %d / tried %d calls", runs, denied, tried)
}

// startStack starts the stack the suites share: on the dev server, or with
// cluster on the production shape (PostgreSQL, four services, every client
// by its certificate; the suites' rogue clients as admin).
func startStack(slackAPI string, cluster bool) (*stackT, error) {
	s := &stackT{secrets: roleSecrets()}
	prefix := "foureyes-faults-"
	if cluster {
		prefix = "foureyes-cluster-faults-"
	}
	st, err := stacktest.Start(context.Background(), stacktest.Options{TempPrefix: prefix,
		BasePolicy: s.writePolicy, Prepare: func(st *stacktest.Stack) error { return s.prepare(st, slackAPI) },
		Tuning: attackTuning(), Cluster: cluster})
	if st == nil {
		return nil, err
	}
	s.Stack = st
	return s, err
}

// attackTuning is the stack's tuning without eager activity dispatch. With
// it (Temporal 1.32's default), the orchestrator's LoadPolicy is handed
// straight back to the worker that scheduled it and never reaches the queue,
// so a rogue poller cannot win it: a defence by timing, not one foureyes
// relies on. Turned off, the rogue LoadPolicy attack reaches the defence
// that counts (the build and deploy roles compare the policy's hash).
func attackTuning() *devstack.Tuning {
	t := devstack.DefaultTuning
	t.DynamicConfig = append(slices.Clone(t.DynamicConfig), "system.enableActivityEagerExecution=false")
	return &t
}

// writePolicy writes the policy without the hash of erin's token.
func (s *stackT) writePolicy(st *stacktest.Stack) (string, error) {
	s.revoked = st.Tokens["erin"]
	out := filepath.Join(st.Dir, "policy.yaml")
	var err error
	s.policy, err = revokedPolicy(st.Root, out, s.revoked)
	return out, err
}

// roleSecrets are the secrets each role gets, its own only.
func roleSecrets() map[string]string {
	return map[string]string{
		"FOUREYES_BUILD_REGISTRY_TOKEN":          "registry-token-b81f",
		"FOUREYES_REVIEW_SCANNER_TOKEN":          "scanner-token-5c2e",
		"FOUREYES_APPROVAL_SLACK_SIGNING_SECRET": "slack-signing-secret-9d4a",
		"FOUREYES_APPROVAL_SLACK_BOT_TOKEN":      "xoxb-faults-1f0c",
		"FOUREYES_DEPLOY_CREDENTIALS":            "deploy-credentials-3e7f",
	}
}

// prepare sets each role's settings and secrets and finds the keys.
func (s *stackT) prepare(st *stacktest.Stack, slackAPI string) error {
	s.counter, s.envDir = filepath.Join(st.Dir, "deploys.log"), filepath.Join(st.Dir, "deploy-env")
	if err := os.MkdirAll(s.envDir, 0o755); err != nil {
		return err
	}
	st.Local.Extra = s.extra(slackAPI)
	s.keyFiles = map[string]string{}
	for _, role := range attest.Roles {
		s.keyFiles[role] = st.Local.KeyFile(role)
	}
	return nil
}

func (s *stackT) extra(slackAPI string) map[string][]string {
	deploy := fmt.Sprintf(`printf '%%s start\n' "$FOUREYES_RELEASE_ID" >> '%s'; env > '%s'/"$FOUREYES_RELEASE_ID.env"; `+
		`sleep 2; printf '%%s end\n' "$FOUREYES_RELEASE_ID" >> '%s'`, s.counter, s.envDir, s.counter)
	extra := map[string][]string{
		"approval": {"FOUREYES_APPROVAL_SLACK_TEAM_ID=" + slackTeam, "FOUREYES_APPROVAL_SLACK_API_URL=" + slackAPI},
		"deploy":   {"FOUREYES_DEPLOY_COMMAND=" + deploy},
	}
	for k, v := range s.secrets {
		role := strings.ToLower(strings.Split(k, "_")[1])
		extra[role] = append(extra[role], k+"="+v)
	}
	return extra
}

// revokedPolicy writes deployments/policy.yaml without the hash of token: the
// token's owner stays, the token no longer works. Every service of the
// suites builds from one repository of real commits, made next to it.
func revokedPolicy(root, out, token string) (*policy.Policy, error) {
	data, err := os.ReadFile(filepath.Join(root, "deployments", "policy.yaml"))
	if err != nil {
		return nil, err
	}
	data = withPromoted(withVault(withEmergency(devstack.WithoutPromotionRules(devstack.WithoutOwnProofs(data))))) // the suite's prod releases go straight to prod
	repo, err := makeFaultRepo(filepath.Join(filepath.Dir(out), "repo"))
	if err != nil {
		return nil, err
	}
	if data, err = withServices(data, repo); err != nil {
		return nil, err
	}
	attackRepos, err := makeCommitRepos(filepath.Join(filepath.Dir(out), "commit-attacks"))
	if err != nil {
		return nil, err
	}
	data = withAttackServices(data, attackRepos)
	sum := sha256.Sum256([]byte(token))
	line := "    token_sha256: " + hex.EncodeToString(sum[:]) + "\n"
	if !bytes.Contains(data, []byte(line)) {
		return nil, fmt.Errorf("policy.yaml has no line %q", line)
	}
	if err := os.WriteFile(out, bytes.Replace(data, []byte(line), nil, 1), 0o644); err != nil {
		return nil, err
	}
	p, _, err := policy.Load(out)
	return p, err
}

// withVault adds environment vault, where decisions and requests count only
// with the person's own signature, for the own-keys attacks.
func withVault(data []byte) []byte {
	return withEnvironment(data, "vault", "    request_proof: requester", "        proof: approver", "        proof: approver")
}

// withEnvironment adds environment name with prod's gate rules (review: 1
// of reviewers; approval: 2 of prod-owners); head are its own lines,
// review and approval each gate's extra ones.
func withEnvironment(data []byte, name, head, review, approval string) []byte {
	block := fmt.Sprintf(`
environments:
  %s:
%s
    gates:
      review:
        groups: [reviewers]
        quorum: 1
        deadline: 24h
%s
      approval:
        groups: [prod-owners]
        quorum: 2
        deadline: 24h
%s
`, name, head, review, approval)
	return bytes.Replace(data, []byte("\nenvironments:\n"), []byte(strings.ReplaceAll(block, "\n\n", "\n")), 1)
}

// withEmergency lets prod take break-glass releases (the sample policy's
// emergency rule without skip_requires: the suite's prod has no promotion
// rule to skip), for the emergency attacks.
func withEmergency(data []byte) []byte {
	return bytes.Replace(data, []byte("\n  prod:\n"),
		[]byte("\n  prod:\n    emergency:\n      slack_channel: \"#incidents\"\n      deadline: 1h\n"), 1)
}

func mustPolicy(t *testing.T) *policy.Policy {
	root, err := devstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := policy.Load(filepath.Join(root, "deployments", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// unsignedRefusal waits for the refusal the release recorded for update (or
// request) id rid of a request whose signature did not verify, and checks it
// names no actor: what an unsigned request claims is not believed.
func (s *stackT) unsignedRefusal(ctx context.Context, release, rid string) (audit.Entry, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	e, err := s.WaitEntry(ctx, release, func(e audit.Entry) bool {
		return e.Type == audit.EventDecisionRefused && strings.Contains(e.Detail, strconv.Quote(rid))
	})
	if err == nil && (e.Actor != "" || e.Channel != "" || len(e.Envelope) != 0) {
		err = fmt.Errorf("the refusal of unsigned %q names actor %q, channel %q or keeps an envelope: %+v", rid, e.Actor, e.Channel, e)
	}
	return e, err
}

// post sends one raw request to the gateway; a body that is not JSON comes
// back as {"raw": body}.
func (s *stackT) post(ctx context.Context, path, auth string, body []byte, hdr http.Header) (int, map[string]any, error) {
	code, raw, err := s.Post(ctx, path, auth, body, hdr)
	if err != nil {
		return 0, nil, err
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		got = map[string]any{"raw": string(raw)}
	}
	return code, got, nil
}

// decide posts a decision as who until the gateway gives a final answer,
// always with request id rid (stacktest.Stack.Decide).
func (s *stackT) decide(ctx context.Context, id, gate, verdict, who, rid string) (int, api.Answer, error) {
	return s.Decide(ctx, who, api.DecisionRequest{ReleaseID: id, Gate: gate, Verdict: verdict,
		RequestID: rid, Comment: "rid=" + rid})
}
