package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/internal/figures"
	"github.com/foureyes/foureyes/internal/slackrec"
	"github.com/foureyes/foureyes/internal/stacktest"
)

// hcase is one hostile request and how it must be refused.
type hcase struct {
	name   string
	kind   string // api, slack or signal (straight to Temporal, past the gateway)
	send   func(context.Context) (int, string, error)
	status int    // the answer's status (200 for Slack, which must be acknowledged)
	text   string // in the answer, or in the recorded refusal
	// actor is set when the request reaches the release: its refusal must
	// then be in the audit trail, under actor, through channel.
	actor, channel string
}

type hostileRun struct {
	t              *testing.T
	s              *stackT
	id             string
	tried, refused map[string]int
	recorded       int
	seq            int
}

func hostile(t *testing.T, s *stackT) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := &hostileRun{t: t, s: s, tried: map[string]int{}, refused: map[string]int{}}
	h.start(ctx)
	base := h.trailLen(ctx)
	h.run(ctx, h.gatewayCases())
	h.noSignal(ctx, base)
	click, at := h.click("U0MALLORY1", "review"), time.Now()
	replay := h.slackRequest(click, at, nil)
	h.run(ctx, h.reviewGateCases(replay, h.recased(click, at)))
	h.legit(ctx, "review", "approve", "bob", "bob-review")
	require(t, s.WaitStatus(ctx, h.id, api.StatusAwaitingApproval))
	h.run(ctx, h.approvalGateCases())
	h.replayedByAnother(ctx)
	h.ended(ctx)
	h.report(ctx)
}

func require(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// start starts the release the hostile requests aim at.
func (h *hostileRun) start(ctx context.Context) {
	h.id = fmt.Sprintf("release-hostile-prod-%d", time.Now().UnixNano())
	_, err := h.s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: h.id,
		TaskQueue: api.QueueOrchestrator, WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL},
		api.WorkflowRelease, api.ReleaseRequest{Service: "hostile", Environment: "prod",
			Commit: commitOf("hostile"), Authors: []string{"alice"}, Requester: "rita", Title: "hostile"})
	require(h.t, err)
	require(h.t, h.s.WaitStatus(ctx, h.id, api.StatusAwaitingReview))
}

// gatewayCases are refused at the gateway: none may reach the release.
func (h *hostileRun) gatewayCases() []hcase {
	bob, body := "Bearer "+h.s.Tokens["bob"], h.body("review", "approve", "")
	big := h.body("review", "approve", strings.Repeat("x", 70<<10))
	return []hcase{
		h.api("no token", "", "/v1/decisions", body, 401, "missing or malformed"),
		h.api("basic auth", "Basic Ym9iOmh1bnRlcjI=", "/v1/decisions", body, 401, "missing or malformed"),
		h.api("empty bearer", "Bearer ", "/v1/decisions", body, 401, "missing or malformed"),
		h.api("wrong token", "Bearer fe_demo_mallory_0123456789abcdef", "/v1/decisions", body, 401, "unknown token"),
		h.api("revoked token (hash no longer in the policy)", "Bearer "+h.s.revoked, "/v1/decisions", body, 401, "unknown token"),
		h.api("token in the query string", "", "/v1/decisions?access_token="+url.QueryEscape(h.s.Tokens["bob"]), body, 401, "missing or malformed"),
		h.api("body over the size limit", bob, "/v1/decisions", big, 413, "larger than"),
		h.api("malformed JSON", bob, "/v1/decisions", `{"release_id": "`+h.id, 400, "malformed JSON"),
		h.api("not an object", bob, "/v1/decisions", `["approve"]`, 400, "JSON object"),
		h.api("identity smuggled in the body", bob, "/v1/decisions", strings.Replace(body, "{", `{"identity":"carol",`, 1), 400, `unknown field "identity"`),
		h.api("two objects", bob, "/v1/decisions", body+body, 400, "single JSON object"),
		h.api("unknown gate", bob, "/v1/decisions", h.body("deploy", "approve", ""), 400, "field gate"),
		h.api("unknown verdict", bob, "/v1/decisions", h.body("review", "lgtm", ""), 400, "field verdict"),
		h.api("unknown release", bob, "/v1/decisions", strings.Replace(body, h.id, "release-nope-prod-0", 1), 404, "unknown release"),
		h.api("release id with a control character", bob, "/v1/decisions", strings.Replace(body, h.id, `bad\u0007id`, 1), 400, "field release_id"),
		h.api("payload in the query string", bob, "/v1/decisions?release_id="+h.id+"&gate=review&verdict=approve", "", 400, "empty body"),
		h.method("GET instead of POST", http.MethodGet, bob, 405, "method not allowed"),
		h.slack("unsigned", h.unsigned(h.click("U0BOB0001", "review")), 401, "signature"),
		h.slack("signed with the wrong secret", h.forged(h.click("U0BOB0001", "review")), 401, "signature"),
		h.slack("stale (signed 10 minutes ago)", h.slackRequest(h.click("U0BOB0001", "review"), time.Now().Add(-10*time.Minute), nil), 401, "signature"),
		h.slack("payload smuggled in the query string", h.smuggled(h.click("U0BOB0001", "review")), 400, "exactly one payload"),
		h.slack("another workspace", h.slackRequest(h.otherTeam(h.click("U0BOB0001", "review")), time.Now(), nil), 403, "not the configured workspace"),
		h.slack("body over the size limit", h.slackRequest(slackrec.Click{}, time.Now(), bytes.Repeat([]byte("x"), 1<<20+1)), 413, "too large"),
		h.slack("forged button value", h.slackRequest(h.forgedButton(), time.Now(), nil), 400, "button value"),
	}
}

// reviewGateCases reach the release at its review gate and are refused there.
func (h *hostileRun) reviewGateCases(replay, recased func(context.Context) (int, string, error)) []hcase {
	return []hcase{
		h.recordedAPI("requester signs", "rita", "review", "approve", 403, "you requested this release"),
		h.recordedAPI("not eligible (not a reviewer)", "carol", "review", "approve", 403, "not in reviewers"),
		h.signal("identity the policy does not know (signalled past the gateway)", "mallory", "review", "approve"),
		h.signal("service identity (signalled past the gateway)", "foureyes-deploy@faults", "review", "approve"),
		h.signal("verdict neither approve nor reject (signalled past the gateway)", "bob", "review", "lgtm"),
		{name: "Slack user the policy does not know", kind: "slack", send: replay, status: 200,
			text: "unknown identity", actor: "slack:U0MALLORY1", channel: api.ChannelSlack},
		h.slack("replayed Slack request", replay, 401, "replayed"),
		// slack-go reads the signature's hex in any case: the same request
		// with it upper-cased is the same request (issue "One judge", 8)
		h.slack("replayed Slack request, its signature upper-cased", recased, 401, "replayed"),
	}
}

// approvalGateCases are refused at the approval gate (or the closed review gate).
func (h *hostileRun) approvalGateCases() []hcase {
	return []hcase{
		h.recordedAPI("decision on a closed gate", "bob", "review", "approve", 409, "gate review is not open"),
		h.recordedAPI("author approves own change", "alice", "approval", "approve", 403, "you authored this change"),
		h.recordedAPI("signer of an earlier gate", "bob", "approval", "approve", 403, "you signed an earlier gate"),
		h.recordedAPI("bot at a gate it may not answer", "ci-bot", "approval", "approve", 403, "may not answer the approval gate"),
		{name: "author approves own change through Slack", kind: "slack", status: 200,
			send: h.slackRequest(h.click("U0ALICE01", "approval"), time.Now(), nil),
			text: "you authored this change", actor: "alice", channel: api.ChannelSlack},
	}
}

// replayedByAnother: carol signs; her second try and dave's reuse of her
// request id do not count for her (dave's rejection is his own decision).
func (h *hostileRun) replayedByAnother(ctx context.Context) {
	h.legit(ctx, "approval", "approve", "carol", "carol-1")
	h.run(ctx, []hcase{h.recordedAPI("signs the same gate twice", "carol", "approval", "approve", 403, "you already signed this gate")})
	code, a, err := h.s.decide(ctx, h.id, "approval", "reject", "dave", "carol-1")
	if err != nil || code != http.StatusOK || a.Identity != "dave" {
		h.t.Errorf("dave reusing carol's request id: %d %+v %v, want his own accepted rejection", code, a, err)
	}
}

// ended: the release is over; a decision finds the gate closed and changes
// nothing.
func (h *hostileRun) ended(ctx context.Context) {
	_, err := stacktest.Retry(ctx, func(ctx context.Context) (api.ReleaseResult, error) {
		return api.ResultOf(ctx, h.s.Client.GetWorkflow(ctx, h.id, ""))
	})
	require(h.t, err)
	base := h.trailLen(ctx)
	h.run(ctx, []hcase{h.api("decision on an ended release", "Bearer "+h.s.Tokens["dave"], "/v1/decisions",
		h.body("approval", "approve", ""), 409, "release has ended")})
	if n := h.trailLen(ctx); n != base {
		h.t.Errorf("the ended release's trail grew from %d to %d entries", base, n)
	}
}

func (h *hostileRun) report(ctx context.Context) {
	entries, err := h.s.Trail(ctx, h.id)
	require(h.t, err)
	var buf bytes.Buffer
	require(h.t, audit.Export(&buf, entries))
	if n, err := audit.Verify(&buf); err != nil || n != len(entries) {
		h.t.Errorf("audit chain: %v (%d of %d)", err, n, len(entries))
	}
	if err := h.s.VerifySigned(entries); err != nil {
		h.t.Errorf("audit trail's signatures or seal: %v", err)
	}
	h.toldPrivately(ctx, "U0MALLORY1", "U0ALICE01")
	total, refused := 0, 0
	for _, k := range []string{"api", "slack", "signal"} {
		total, refused = total+h.tried[k], refused+h.refused[k]
	}
	figures.Report(h.t, "hostile requests tried %d / refused %d (bot API %d, Slack %d, signals past the gateway %d); %d refusals recorded in the release's audit trail, the others signalled nothing",
		total, refused, h.tried["api"], h.tried["slack"], h.tried["signal"], h.recorded)
}

// toldPrivately: each refused Slack clicker got an ephemeral reply saying why.
func (h *hostileRun) toldPrivately(ctx context.Context, users ...string) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for _, u := range users {
		_, err := stacktest.Retry(ctx, func(context.Context) (bool, error) {
			for _, c := range h.s.slack.Calls(slackrec.PostEphemeral) {
				if c.Form.Get("user") == u && strings.Contains(c.Form.Get("text"), "was refused") {
					return true, nil
				}
			}
			return false, fmt.Errorf("no ephemeral reply to %s", u)
		})
		if err != nil {
			h.t.Error(err)
		}
	}
}

// run sends each case and checks its refusal.
func (h *hostileRun) run(ctx context.Context, cases []hcase) {
	for _, c := range cases {
		h.tried[c.kind]++
		status, text, err := c.send(ctx)
		switch {
		case err != nil:
			h.t.Errorf("%s: %v", c.name, err)
		case status != c.status:
			h.t.Errorf("%s: status %d (%s), want %d", c.name, status, text, c.status)
		case c.actor == "" && !strings.Contains(text, c.text):
			h.t.Errorf("%s: answer %q does not say %q", c.name, text, c.text)
		case c.actor != "" && !h.recordedRefusal(ctx, c):
			h.t.Errorf("%s: no refusal of %s (%q) in the audit trail", c.name, c.actor, c.text)
		default:
			h.refused[c.kind]++
		}
	}
}

// recordedRefusal waits (Slack decides after acknowledging) for the refusal.
func (h *hostileRun) recordedRefusal(ctx context.Context, c hcase) bool {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, err := stacktest.Retry(ctx, func(ctx context.Context) (bool, error) {
		entries, err := h.s.Trail(ctx, h.id)
		for _, e := range entries {
			if e.Type == audit.EventDecisionRefused && e.Actor == c.actor && e.Channel == c.channel &&
				strings.Contains(e.Detail, c.text) {
				return true, nil
			}
		}
		return false, fmt.Errorf("not recorded yet (%v)", err)
	})
	if err == nil {
		h.recorded++
	}
	return err == nil
}

// noSignal: no decision reached the release since the trail had base entries.
func (h *hostileRun) noSignal(ctx context.Context, base int) {
	entries, err := h.s.Trail(ctx, h.id)
	require(h.t, err)
	for _, e := range entries[base:] {
		if strings.HasPrefix(e.Type, "decision") {
			h.t.Errorf("a request refused at the gateway reached the release: %+v", e)
		}
	}
}

func (h *hostileRun) trailLen(ctx context.Context) int {
	entries, err := h.s.Trail(ctx, h.id)
	require(h.t, err)
	return len(entries)
}

// legit sends a decision that must be accepted.
func (h *hostileRun) legit(ctx context.Context, gate, verdict, who, rid string) {
	code, a, err := h.s.decide(ctx, h.id, gate, verdict, who, rid)
	if err != nil || code != http.StatusOK {
		h.t.Fatalf("%s %s at %s: %d %+v %v", who, verdict, gate, code, a, err)
	}
}

func (h *hostileRun) body(gate, verdict, comment string) string {
	h.seq++
	b, _ := json.Marshal(map[string]string{"release_id": h.id, "gate": gate, "verdict": verdict,
		"comment": comment, "request_id": fmt.Sprintf("hostile-%d", h.seq)})
	return string(b)
}

func (h *hostileRun) api(name, auth, path, body string, status int, text string) hcase {
	return hcase{name: name, kind: "api", status: status, text: text,
		send: func(ctx context.Context) (int, string, error) {
			code, got, err := h.s.post(ctx, path, auth, []byte(body), nil)
			return code, answerText(got), err
		}}
}

// recordedAPI is a well-formed decision by who that the release must refuse
// and record.
func (h *hostileRun) recordedAPI(name, who, gate, verdict string, status int, text string) hcase {
	c := h.api(name, "Bearer "+h.s.Tokens[who], "/v1/decisions", h.body(gate, verdict, ""), status, text)
	c.actor, c.channel = who, api.ChannelAPI
	return c
}

func (h *hostileRun) method(name, method, auth string, status int, text string) hcase {
	return hcase{name: name, kind: "api", status: status, text: text,
		send: func(ctx context.Context) (int, string, error) {
			req, err := http.NewRequestWithContext(ctx, method, h.s.Local.GatewayURL()+"/v1/decisions", nil)
			if err != nil {
				return 0, "", err
			}
			req.Header.Set("Authorization", auth)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return 0, "", err
			}
			defer resp.Body.Close()
			var got map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&got)
			return resp.StatusCode, answerText(got), nil
		}}
}

func answerText(got map[string]any) string {
	for _, k := range []string{"error", "reason", "raw"} {
		if v, ok := got[k].(string); ok && v != "" {
			return v
		}
	}
	return fmt.Sprint(got)
}

// signal sends a decision straight to Temporal, as someone with Temporal
// access but no token would. The release refuses it whatever it claims (a
// signal carries no signature) and records the refusal with no actor: the
// claimed identity is not believed. The answer is that recorded refusal.
func (h *hostileRun) signal(name, who, gate, verdict string) hcase {
	h.seq++
	rid := fmt.Sprintf("signal-%d", h.seq)
	return hcase{name: name, kind: "signal", status: http.StatusForbidden,
		text: fmt.Sprintf("a decision signal carries no signature (claimed identity %q)", who),
		send: func(ctx context.Context) (int, string, error) {
			d := api.Decision{RequestID: rid, Gate: gate, Verdict: verdict, Identity: who, Channel: api.ChannelAPI}
			if err := h.s.Client.SignalWorkflow(ctx, h.id, "", api.SignalDecision, d); err != nil {
				return 0, "", err
			}
			e, err := h.s.unsignedRefusal(ctx, h.id, rid)
			if err != nil {
				return 0, "", err
			}
			h.recorded++
			return http.StatusForbidden, e.Detail, nil
		}}
}

// click is a click on the release's prompt button by a Slack user.
func (h *hostileRun) click(user, gate string) slackrec.Click {
	h.seq++
	value, _ := json.Marshal(api.SlackButton{ReleaseID: h.id, Gate: gate, Prompt: "hostile"})
	return slackrec.Click{Team: slackTeam, User: user, Channel: "C0FAULTS1", MessageTS: "1700000000.000100",
		ActionID: api.SlackActionApprove, Value: string(value), ActionTS: fmt.Sprintf("1700000001.%06d", h.seq)}
}

func (h *hostileRun) otherTeam(c slackrec.Click) slackrec.Click {
	c.Team = "T0OTHER01"
	return c
}

func (h *hostileRun) forgedButton() slackrec.Click {
	c := h.click("U0BOB0001", "review")
	c.Value = `{"release_id":"release with spaces","gate":"review"}`
	return c
}

func (h *hostileRun) slack(name string, send func(context.Context) (int, string, error), status int, text string) hcase {
	return hcase{name: name, kind: "slack", send: send, status: status, text: text}
}

// slackRequest posts the click (or raw) signed at at with the stack's
// secret; the same function sends the same bytes again (a replay).
func (h *hostileRun) slackRequest(c slackrec.Click, at time.Time, raw []byte) func(context.Context) (int, string, error) {
	body := c.Body()
	if raw != nil {
		body = string(raw)
	}
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	slackrec.Sign(hdr, h.s.secrets["FOUREYES_APPROVAL_SLACK_SIGNING_SECRET"], body, at)
	return h.slackPost("", body, hdr)
}

// recased sends the request slackRequest(c, at, nil) sends, with its
// signature's hex upper-cased.
func (h *hostileRun) recased(c slackrec.Click, at time.Time) func(context.Context) (int, string, error) {
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	slackrec.Sign(hdr, h.s.secrets["FOUREYES_APPROVAL_SLACK_SIGNING_SECRET"], c.Body(), at)
	sig := hdr.Get("X-Slack-Signature")
	hdr.Set("X-Slack-Signature", "v0="+strings.ToUpper(strings.TrimPrefix(sig, "v0=")))
	return h.slackPost("", c.Body(), hdr)
}

func (h *hostileRun) slackPost(query, body string, hdr http.Header) func(context.Context) (int, string, error) {
	return func(ctx context.Context) (int, string, error) {
		code, got, err := h.s.post(ctx, "/slack/interactions"+query, "", []byte(body), hdr)
		return code, answerText(got), err
	}
}

func (h *hostileRun) unsigned(c slackrec.Click) func(context.Context) (int, string, error) {
	return h.slackPost("", c.Body(), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
}

func (h *hostileRun) forged(c slackrec.Click) func(context.Context) (int, string, error) {
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	slackrec.Sign(hdr, "not-the-signing-secret", c.Body(), time.Now())
	return h.slackPost("", c.Body(), hdr)
}

// smuggled signs an empty body and puts the click in the query string,
// which Slack does not sign.
func (h *hostileRun) smuggled(c slackrec.Click) func(context.Context) (int, string, error) {
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	slackrec.Sign(hdr, h.s.secrets["FOUREYES_APPROVAL_SLACK_SIGNING_SECRET"], "", time.Now())
	return h.slackPost("?"+c.Body(), "", hdr)
}
