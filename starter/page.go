package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/foureyes/foureyes/api"
)

// cmdPage prints the link to the caller's own approval page for a
// release's gate: there they approve or reject with their passkey.
func cmdPage(e *env, args []string) error {
	fs := newFlags("page")
	gate := fs.String("gate", "approval", "the `GATE`: review, approval or follow_up")
	tokenFile, gw := pageFlags(e, fs)
	pos, err := parseArgs(fs, args, "RELEASE")
	if err != nil {
		return err
	}
	return printPageLink(e, *tokenFile, *gw, api.PageRequest{Purpose: "approve", ReleaseID: pos[0], Gate: *gate})
}

// cmdPasskeyEnroll prints the link to the caller's enroll page: it makes
// a passkey and shows the policy lines that list it.
func cmdPasskeyEnroll(e *env, args []string) error {
	fs := newFlags("passkey enroll")
	tokenFile, gw := pageFlags(e, fs)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	return printPageLink(e, *tokenFile, *gw, api.PageRequest{Purpose: "enroll"})
}

func pageFlags(e *env, fs interface {
	String(name, value, usage string) *string
}) (*string, *string) {
	return fs.String("token-file", "", "`FILE` holding the API token (default $FOUREYES_TOKEN)"),
		fs.String("gateway", e.envOr("FOUREYES_GATEWAY_URL", "http://127.0.0.1:8480"), "gateway `URL`")
}

// printPageLink asks the gateway for the caller's link (POST /v1/pages).
func printPageLink(e *env, tokenFile, gateway string, req api.PageRequest) error {
	token, err := readToken(e, tokenFile)
	if err != nil {
		return err
	}
	l, err := fetchPageLink(token, gateway, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n(your link alone; it opens the page until %s)\n", l.URL, l.Expires.Local().Format(time.RFC3339))
	return nil
}

// fetchPageLink is the link of the token holder's page.
func fetchPageLink(token, gateway string, req api.PageRequest) (api.PageLink, error) {
	status, raw, err := gatewayClient{gateway, token}.post(api.PathPages, req)
	if err != nil {
		return api.PageLink{}, err
	}
	var l struct {
		api.PageLink
		Error string `json:"error"`
	}
	if err := json.Unmarshal(raw, &l); err != nil || status != http.StatusOK {
		return api.PageLink{}, fail(exitFailure, "gateway %s: %d %s %s", gateway, status, http.StatusText(status), firstOf(l.Error, string(raw)))
	}
	return l.PageLink, nil
}

// printPageRow adds the caller's approval page of the open gate to a
// status: their own link when $FOUREYES_TOKEN names them, else how to get it.
func printPageRow(e *env, st api.Status) {
	if st.OpenGate == "" || st.Result != nil {
		return
	}
	hint := fmt.Sprintf("starter page %s --gate %s (with your token) prints your link", st.ReleaseID, st.OpenGate)
	if token := strings.TrimSpace(e.getenv("FOUREYES_TOKEN")); token != "" {
		l, err := fetchPageLink(token, e.envOr("FOUREYES_GATEWAY_URL", "http://127.0.0.1:8480"),
			api.PageRequest{Purpose: "approve", ReleaseID: st.ReleaseID, Gate: st.OpenGate})
		if err == nil {
			hint = l.URL + " (yours alone)"
		}
	}
	fmt.Fprintf(e.stdout, "approval page  %s\n", hint)
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
