package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/policy"
)

const decideSynopsis = "RELEASE --gate review|approval (--approve | --reject) [--comment C] [--all-for-digest] [--request-id ID] [--key FILE | --ssh-agent] [--policy FILE] [--token-file F] [--gateway URL] [--json]"

// httpClient posts decisions; its timeout covers the gateway's wait.
var httpClient = &http.Client{Timeout: 30 * time.Second}

type decideArgs struct {
	req        api.DecisionRequest
	approve    bool
	reject     bool
	tokenFile  string
	gatewayURL string
	asJSON     bool
	all        bool // every queued release of the artifact
	key        ownKey
}

func cmdDecide(e *env, args []string) error {
	fs := newFlags("decide")
	var d decideArgs
	fs.StringVar(&d.req.Gate, "gate", "", "review or approval")
	fs.BoolVar(&d.approve, "approve", false, "approve the gate")
	fs.BoolVar(&d.reject, "reject", false, "reject the gate")
	fs.StringVar(&d.req.Comment, "comment", "", "comment")
	fs.StringVar(&d.req.RequestID, "request-id", "", "request id (re-send one to learn its outcome)")
	fs.StringVar(&d.tokenFile, "token-file", "", "file holding the API token (default $FOUREYES_TOKEN)")
	fs.StringVar(&d.gatewayURL, "gateway", e.envOr("FOUREYES_GATEWAY_URL", "http://127.0.0.1:8480"), "gateway URL")
	fs.BoolVar(&d.asJSON, "json", false, "print JSON")
	d.key.define(e, fs)
	fs.BoolVar(&d.all, "all-for-digest", false, "approve the gate of every running release of the same artifact waiting at it (each judged by its own gate)")
	pos, err := parseArgs(fs, args, "RELEASE")
	if err != nil {
		return err
	}
	d.req.ReleaseID = pos[0]
	if err := d.validate(); err != nil {
		return err
	}
	token, err := readToken(e, d.tokenFile)
	if err != nil {
		return err
	}
	if d.all {
		return decideAll(e, d, token)
	}
	if d.key.wanted() {
		if d.req.Proof, err = signDecision(e, d, token); err != nil {
			return err
		}
	}
	return postDecision(e, d, token)
}

func (d *decideArgs) validate() error {
	if d.approve == d.reject {
		return usageError("use exactly one of --approve or --reject")
	}
	d.req.Verdict = api.VerdictApprove
	if d.reject {
		d.req.Verdict = api.VerdictReject
	}
	if d.req.Gate != policy.GateReview && d.req.Gate != policy.GateApproval && d.req.Gate != api.GateFollowUp {
		return fail(exitUsage, "--gate: must be %s, %s or %s", policy.GateReview, policy.GateApproval, api.GateFollowUp)
	}
	if d.all && d.key.wanted() {
		return usageError("--all-for-digest: sign each release's decision on its own (--key)")
	}
	if err := d.key.check(); err != nil {
		return err
	}
	if d.all && d.reject {
		return usageError("--all-for-digest: only an approval is taken for several releases; reject each on its own")
	}
	if d.reject && strings.TrimSpace(d.req.Comment) == "" {
		return usageError("--comment: a rejection needs a comment: say why")
	}
	if d.req.RequestID == "" {
		d.req.RequestID = uuid.NewString()
	}
	return nil
}

// readToken reads the API token from a file or $FOUREYES_TOKEN; never
// from a flag, so it stays out of shell history.
func readToken(e *env, file string) (string, error) {
	token := e.getenv("FOUREYES_TOKEN")
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fail(exitUsage, "--token-file: %v", err)
		}
		token = string(b)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", fail(exitUsage, "no API token: set FOUREYES_TOKEN or use --token-file")
	}
	return token, nil
}

func postDecision(e *env, d decideArgs, token string) error {
	body, err := json.Marshal(d.req)
	if err != nil {
		return fail(exitFailure, "%v", err)
	}
	hreq, err := gatewayRequest(d.gatewayURL, api.PathDecisions, token, body)
	if err != nil {
		return err
	}
	status, ans, err := send(hreq)
	if err != nil {
		return fail(exitFailure, "gateway %s: %v", d.gatewayURL, err)
	}
	if err := printAnswer(e, ans, d.asJSON); err != nil {
		return err
	}
	return answerError(status, ans)
}

// send posts the request and decodes the gateway's JSON answer.
func send(req *http.Request) (int, api.Answer, error) {
	var ans api.Answer
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, ans, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(raw, &ans); err != nil {
		return 0, ans, fmt.Errorf("answered %s: %s", resp.Status, oneLine(string(raw), 200))
	}
	return resp.StatusCode, ans, nil
}

func printAnswer(e *env, ans api.Answer, asJSON bool) error {
	if asJSON {
		return printJSON(e.stdout, ans)
	}
	if ans.Outcome == "" {
		return nil
	}
	fmt.Fprintln(e.stdout, strings.TrimSuffix(ans.Outcome+": "+ans.Reason, ": "))
	gate := ans.Gate
	if ans.GateState != "" {
		gate += " (" + ans.GateState + ")"
	}
	fmt.Fprintf(e.stdout, "  release %s, gate %s, as %s, request id %s\n", ans.ReleaseID, gate, ans.Identity, ans.RequestID)
	return nil
}

// answerError maps the gateway's status to the CLI's exit code.
func answerError(status int, ans api.Answer) error {
	msg := ans.Error
	if msg == "" {
		msg = strings.TrimSuffix(ans.Outcome+": "+ans.Reason, ": ")
	}
	switch status {
	case http.StatusOK:
		return nil
	case http.StatusForbidden, http.StatusConflict:
		return fail(exitRefused, "%s", msg)
	case http.StatusNotFound:
		return fail(exitNotFound, "%s", msg)
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
		return fail(exitUsage, "%s", msg)
	case http.StatusAccepted:
		return fail(exitFailure, "not processed yet: run again with --request-id %s to learn the outcome", ans.RequestID)
	}
	return fail(exitFailure, "gateway answered %d: %s", status, msg)
}
