package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
)

// status names the caller's own approval page of the open gate: minted
// with their token when they have one, else the command that prints it.
func TestStatusNamesTheApprovalPage(t *testing.T) {
	var asked api.PageRequest
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, api.PathPages, r.URL.Path)
		require.Equal(t, "Bearer carol-token", r.Header.Get("Authorization"))
		require.NoError(t, json.NewDecoder(r.Body).Decode(&asked))
		_ = json.NewEncoder(w).Encode(api.PageLink{URL: "http://localhost:8480/approve?as=carol&sig=x", Expires: time.Now().Add(time.Hour)})
	}))
	defer gw.Close()
	st := api.Status{ReleaseID: "release-1", OpenGate: "approval"}
	vars := map[string]string{"FOUREYES_GATEWAY_URL": gw.URL, "FOUREYES_TOKEN": "carol-token"}
	var out bytes.Buffer
	printPageRow(&env{stdout: &out, getenv: func(k string) string { return vars[k] }}, st)
	assert.Equal(t, "approval page  http://localhost:8480/approve?as=carol&sig=x (yours alone)\n", out.String())
	assert.Equal(t, api.PageRequest{Purpose: "approve", ReleaseID: "release-1", Gate: "approval"}, asked)

	out.Reset()
	delete(vars, "FOUREYES_TOKEN")
	printPageRow(&env{stdout: &out, getenv: func(k string) string { return vars[k] }}, st)
	assert.Equal(t, "approval page  starter page release-1 --gate approval (with your token) prints your link\n", out.String())

	out.Reset()
	st.Result = &api.ReleaseResult{Status: api.StatusDeployed}
	printPageRow(&env{stdout: &out, getenv: func(k string) string { return vars[k] }}, st)
	assert.Empty(t, out.String(), "an ended release has no page")
}
