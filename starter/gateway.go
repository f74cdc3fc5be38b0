package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/foureyes/foureyes/api"
)

// httpClient carries every request to the gateway; its timeout covers the
// gateway's wait for a release's answer.
var httpClient = &http.Client{Timeout: 30 * time.Second}

// gatewayClient is the CLI's one client of the approval role's gateway:
// every call is an authenticated POST of a JSON body (the caller's API
// token; the User-Agent tells the gateway the request comes from this CLI)
// answered with JSON.
type gatewayClient struct{ url, token string }

// post sends body to path and returns the answer's status and bytes (at
// most 4 MiB). An address it cannot use is a usage error (exit 2); no
// answer at all is "gateway URL: why" (exit 1).
func (g gatewayClient) post(path string, body any) (int, []byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return 0, nil, fail(exitFailure, "%v", err)
	}
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(g.url, "/")+path, bytes.NewReader(data))
	if err != nil {
		return 0, nil, fail(exitUsage, "--gateway: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("User-Agent", api.StarterUserAgent+"/1")
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, fail(exitFailure, "gateway %s: %v", g.url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, nil, fail(exitFailure, "gateway %s: %v", g.url, err)
	}
	return resp.StatusCode, raw, nil
}

// answer posts body to path and decodes the gateway's api.Answer (a
// decision's, a cancel's): an answer that is not one is an error (exit 1).
func (g gatewayClient) answer(path string, body any) (int, api.Answer, error) {
	var ans api.Answer
	status, raw, err := g.post(path, body)
	if err != nil {
		return 0, ans, err
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return 0, ans, fail(exitFailure, "gateway %s: answered %d %s: %s", g.url, status, http.StatusText(status), oneLine(string(raw), 200))
	}
	return status, ans, nil
}
