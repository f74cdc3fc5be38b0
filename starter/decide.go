package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/google/uuid"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/policy"
)

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
	fs.StringVar(&d.req.Gate, "gate", "", "required: the `GATE`, review, approval or follow_up")
	fs.BoolVar(&d.approve, "approve", false, "approve the gate")
	fs.BoolVar(&d.reject, "reject", false, "reject the gate")
	fs.StringVar(&d.req.Comment, "comment", "", "comment")
	fs.StringVar(&d.req.RequestID, "request-id", "", "request `ID` (re-send one to learn its outcome)")
	fs.StringVar(&d.tokenFile, "token-file", "", "`FILE` holding the API token (default $FOUREYES_TOKEN)")
	fs.StringVar(&d.gatewayURL, "gateway", e.envOr("FOUREYES_GATEWAY_URL", "http://127.0.0.1:8480"), "gateway `URL`")
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
	status, ans, err := gatewayClient{d.gatewayURL, token}.answer(api.PathDecisions, d.req)
	if err != nil {
		return err
	}
	if err := printAnswer(e, ans, d.asJSON); err != nil {
		return err
	}
	return answerError(status, ans)
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
