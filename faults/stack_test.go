package faults

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/devstack"
	"github.com/foureyes/foureyes/gateway"
	"github.com/foureyes/foureyes/internal/figures"
	"github.com/foureyes/foureyes/internal/slackrec"
	"github.com/foureyes/foureyes/policy"
	"github.com/foureyes/foureyes/workflows"
)

// slackTeam is the Slack workspace whose clicks the stack's gateway takes.
const slackTeam = "T0FAULTS1"

// stackT is the stack every test of this package shares (started once).
type stackT struct {
	dir      string
	slack    *slackrec.Server // the Slack Web API the approval role talks to
	local    *devstack.Local
	server   string // foureyes' Temporal server binary
	client   client.Client
	tokens   map[string]string // identity -> demo token
	secrets  map[string]string // secret variable -> value given to its role only
	counter  string            // the deploy command appends "<release> start|end" here
	envDir   string            // the deploy command writes its environment here
	revoked  string            // erin's token: its hash is not in the stack's policy
	keyFiles map[string]string // signing role -> its private key file
	ring     attest.KeyRing    // the public keys of the stack's policy
	policy   *policy.Policy
	pgDir    string // the cluster's PostgreSQL data (cluster_test.go)
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
	s, err := startStack(api.URL())
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
	logFile := ""
	if s.local.Server != nil {
		logFile = s.local.Server.LogFile
	}
	s.local.Stop()
	if s.client != nil {
		s.client.Close()
	}
	if logFile != "" {
		reportServerTally(t, logFile)
	}
	os.RemoveAll(s.dir)
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

func startStack(slackAPI string) (*stackT, error) {
	root, err := devstack.RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "foureyes-faults-")
	if err != nil {
		return nil, err
	}
	s := &stackT{dir: dir, counter: filepath.Join(dir, "deploys.log"), envDir: filepath.Join(dir, "deploy-env")}
	if err := s.prepare(root, slackAPI); err != nil {
		return nil, err
	}
	if err := s.boot(root); err != nil {
		return s, fmt.Errorf("%w (logs in %s)", err, s.local.LogDir())
	}
	return s, nil
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

// prepare writes the policy (erin's token revoked), reads the demo tokens
// and sets each role's settings and secrets.
func (s *stackT) prepare(root, slackAPI string) error {
	dir := s.dir
	if err := os.MkdirAll(s.envDir, 0o755); err != nil {
		return err
	}
	tokens, err := demoTokens(root)
	if err != nil {
		return err
	}
	s.tokens, s.revoked = tokens, tokens["erin"]
	policyFile := filepath.Join(dir, "policy.yaml")
	if s.policy, err = revokedPolicy(root, policyFile, s.revoked); err != nil {
		return err
	}
	s.secrets = map[string]string{
		"FOUREYES_BUILD_REGISTRY_TOKEN":          "registry-token-b81f",
		"FOUREYES_REVIEW_SCANNER_TOKEN":          "scanner-token-5c2e",
		"FOUREYES_APPROVAL_SLACK_SIGNING_SECRET": "slack-signing-secret-9d4a",
		"FOUREYES_APPROVAL_SLACK_BOT_TOKEN":      "xoxb-faults-1f0c",
		"FOUREYES_DEPLOY_CREDENTIALS":            "deploy-credentials-3e7f",
	}
	// The roles read the stack's policy: this one plus the stack's keys.
	s.local = &devstack.Local{Root: root, DataDir: filepath.Join(dir, "data"), BinDir: filepath.Join(dir, "bin"),
		BasePolicy: policyFile, Extra: s.extra(slackAPI), Tuning: attackTuning()}
	s.keyFiles = map[string]string{}
	for _, role := range attest.Roles {
		s.keyFiles[role] = s.local.KeyFile(role)
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

// boot builds the binaries and starts the server and the roles on free ports.
func (s *stackT) boot(root string) error {
	var err error
	if s.server, err = devstack.EnsureTemporalServer(root, io.Discard); err != nil {
		return fmt.Errorf("foureyes' Temporal server is needed (go run ./stack test builds it): %w", err)
	}
	if err := devstack.BuildBinaries(root, s.local.BinDir, io.Discard); err != nil {
		return err
	}
	if s.local.Port, err = devstack.FreePort(); err != nil {
		return err
	}
	if s.local.GatewayPort, err = devstack.FreePort(); err != nil {
		return err
	}
	ctx := context.Background()
	if err := s.local.MakeDirs(); err != nil {
		return err
	}
	p, _, err := policy.Load(s.local.PolicyFile())
	if err != nil {
		return err
	}
	if s.ring, err = p.KeyRing(); err != nil {
		return err
	}
	if err := s.local.StartServer(ctx, s.server); err != nil {
		return err
	}
	return s.startRolesAndClient(ctx)
}

// startRolesAndClient starts the roles, waits for the gateway and dials the
// suites' client.
func (s *stackT) startRolesAndClient(ctx context.Context) error {
	var err error
	if err := s.local.StartRoles(ctx); err != nil {
		return err
	}
	if err := s.local.WaitGateway(ctx, time.Minute); err != nil {
		return err
	}
	// The suites play rogue clients the server would stop (see the
	// server's own table): they call as the admin to reach the roles' checks.
	s.client, err = s.local.Dial(ctx, devstack.IdentityAdmin)
	return err
}

// demoTokens maps identities to the tokens of deploy/demo-tokens.env.
func demoTokens(root string) (map[string]string, error) {
	env, err := devstack.ReadEnvFile(filepath.Join(root, "deploy", "demo-tokens.env"))
	if err != nil {
		return nil, err
	}
	tokens := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if name, ok := strings.CutPrefix(k, "FOUREYES_DEMO_TOKEN_"); ok {
			tokens[strings.ReplaceAll(strings.ToLower(name), "_", "-")] = v
		}
	}
	return tokens, nil
}

// revokedPolicy writes deploy/policy.yaml without the hash of token: the
// token's owner stays, the token no longer works. Every service of the
// suites builds from one repository of real commits, made next to it.
func revokedPolicy(root, out, token string) (*policy.Policy, error) {
	data, err := os.ReadFile(filepath.Join(root, "deploy", "policy.yaml"))
	if err != nil {
		return nil, err
	}
	data = devstack.WithoutPromotionRules(data) // the suite's prod releases go straight to prod
	repo, err := makeFaultRepo(filepath.Join(filepath.Dir(out), "repo"))
	if err != nil {
		return nil, err
	}
	if data, err = withServices(data, repo); err != nil {
		return nil, err
	}
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

func mustPolicy(t *testing.T) *policy.Policy {
	root, err := devstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := policy.Load(filepath.Join(root, "deploy", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// retry calls f until it succeeds or ctx ends: the stack may be restarting.
func retry[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		v, err := f(cctx)
		cancel()
		if err == nil {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// query asks a release a question, retrying through restarts.
func query[T any](ctx context.Context, s *stackT, id, name string, args ...any) (T, error) {
	return retry(ctx, func(ctx context.Context) (T, error) {
		var out T
		v, err := s.client.QueryWorkflow(ctx, id, "", name, args...)
		if err == nil {
			err = v.Get(&out)
		}
		return out, err
	})
}

// verifySigned checks an exported trail as an auditor would: the chain,
// every envelope against the stack's keys, and the seal at its end.
func (s *stackT) verifySigned(entries []audit.Entry) error {
	var buf bytes.Buffer
	if err := audit.Export(&buf, entries); err != nil {
		return err
	}
	rep, err := audit.VerifySigned(&buf, s.ring)
	if err == nil && rep.Entries != len(entries) {
		err = fmt.Errorf("%d of %d entries verified", rep.Entries, len(entries))
	}
	return err
}

func (s *stackT) trail(ctx context.Context, id string) ([]audit.Entry, error) {
	a, err := query[workflows.AuditTrail](ctx, s, id, workflows.QueryAudit)
	return a.Entries, err
}

// unsignedRefusal waits for the refusal the release recorded for update (or
// request) id rid of a request whose signature did not verify, and checks it
// names no actor: what an unsigned request claims is not believed.
func (s *stackT) unsignedRefusal(ctx context.Context, release, rid string) (audit.Entry, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	e, err := retry(ctx, func(ctx context.Context) (audit.Entry, error) {
		entries, err := s.trail(ctx, release)
		for _, e := range entries {
			if e.Type == audit.EventDecisionRefused && strings.Contains(e.Detail, strconv.Quote(rid)) {
				return e, nil
			}
		}
		return audit.Entry{}, fmt.Errorf("no refusal of %q recorded yet (%v)", rid, err)
	})
	if err == nil && (e.Actor != "" || e.Channel != "" || len(e.Envelope) != 0) {
		err = fmt.Errorf("the refusal of unsigned %q names actor %q, channel %q or keeps an envelope: %+v", rid, e.Actor, e.Channel, e)
	}
	return e, err
}

// waitStatus polls until the release's status is want.
func (s *stackT) waitStatus(ctx context.Context, id, want string) error {
	_, err := retry(ctx, func(ctx context.Context) (bool, error) {
		st, err := query[workflows.Status](ctx, s, id, workflows.QueryStatus)
		if err == nil && st.Status != want {
			err = fmt.Errorf("status %s, waiting for %s", st.Status, want)
		}
		return true, err
	})
	return err
}

// post sends one raw request to the gateway.
func (s *stackT) post(ctx context.Context, path, auth string, body []byte, hdr http.Header) (int, map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.local.GatewayURL()+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		got = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, got, nil
}

// decide posts a decision as who until the gateway gives a final answer
// (not 202 pending, not 5xx, not unreachable), always with the same request
// id, as a client facing a restarting stack should.
func (s *stackT) decide(ctx context.Context, id, gate, verdict, who, rid string) (int, gateway.Answer, error) {
	body, _ := json.Marshal(gateway.Request{ReleaseID: id, Gate: gate, Verdict: verdict,
		RequestID: rid, Comment: "rid=" + rid})
	type final struct {
		code int
		a    gateway.Answer
	}
	f, err := retry(ctx, func(ctx context.Context) (final, error) {
		code, got, err := s.post(ctx, "/v1/decisions", "Bearer "+s.tokens[who], body, nil)
		if err == nil && (code == http.StatusAccepted || code == http.StatusTooManyRequests || code >= 500) {
			err = fmt.Errorf("gateway answered %d: %v", code, got)
		}
		var a gateway.Answer
		raw, _ := json.Marshal(got)
		_ = json.Unmarshal(raw, &a)
		return final{code, a}, err
	})
	return f.code, f.a, err
}
