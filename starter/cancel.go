package main

import (
	"flag"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/foureyes/foureyes/api"
)

type cancelArgs struct {
	req        api.CancelReleaseRequest
	tokenFile  string
	gatewayURL string
	asJSON     bool
}

// cmdCancel asks the gateway to cancel a release as the caller's token
// identity; the gateway signs the cancel and the release judges it.
func cmdCancel(e *env, args []string) error {
	fs := newFlags("cancel")
	var c cancelArgs
	fs.StringVar(&c.req.Reason, "reason", "", "why: the `REASON`")
	fs.StringVar(&c.req.RequestID, "request-id", "", "request `ID` (re-send one to learn its outcome; default: a new one)")
	fs.StringVar(&c.tokenFile, "token-file", "", "`FILE` holding the API token (default $FOUREYES_TOKEN)")
	fs.StringVar(&c.gatewayURL, "gateway", e.envOr("FOUREYES_GATEWAY_URL", "http://127.0.0.1:8480"), "gateway `URL`")
	fs.BoolVar(&c.asJSON, "json", false, "print JSON")
	fs.String("as", "", "no longer accepted: the identity is the API token's")
	pos, err := parseArgs(fs, args, "RELEASE")
	if err != nil {
		return err
	}
	if flagGiven(fs, "as") {
		return usageError("--as: cancels are authenticated by your API token now (FOUREYES_TOKEN or --token-file)")
	}
	c.req.ReleaseID = pos[0]
	if c.req.RequestID == "" {
		c.req.RequestID = uuid.NewString()
	}
	token, err := readToken(e, c.tokenFile)
	if err != nil {
		return err
	}
	return postCancel(e, c, token)
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func postCancel(e *env, c cancelArgs, token string) error {
	status, ans, err := gatewayClient{c.gatewayURL, token}.answer(api.PathCancels, c.req)
	if err != nil {
		return err
	}
	if err := printCancel(e, ans, c.asJSON); err != nil {
		return err
	}
	if status == http.StatusAccepted {
		return fail(exitFailure, "not known yet: run again with --request-id %s, or see starter status %s", ans.RequestID, ans.ReleaseID)
	}
	return answerError(status, ans)
}

func printCancel(e *env, ans api.Answer, asJSON bool) error {
	if asJSON {
		return printJSON(e.stdout, ans)
	}
	if ans.Outcome == "" {
		return nil
	}
	fmt.Fprintln(e.stdout, strings.TrimSuffix(ans.Outcome+": "+ans.Reason, ": "))
	fmt.Fprintf(e.stdout, "  cancel of release %s, as %s, request id %s\n", ans.ReleaseID, ans.Identity, ans.RequestID)
	return nil
}
