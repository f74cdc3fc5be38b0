package gateway

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/internal/testpasskey"
)

// newPageFixture serves a gateway with the approval page at its own
// address (the page's origin is then the test server's).
func newPageFixture(t *testing.T, fake *fakeClient) (*signedFixture, *Server) {
	f := newSignedFixture(t, fake, nil)
	u, _ := url.Parse(f.srv.URL)
	srv := New(Options{Client: fake, Policy: testPolicy(), Signer: nil, PageURL: "http://localhost:" + u.Port(),
		PageSecret: []byte("k"), MaxBodyBytes: 4096})
	f.srv.Config.Handler = srv.Handler()
	return f, srv
}

// get fetches path (a link's path and query) from the fixture.
func get(t *testing.T, f *signedFixture, link string) (int, string, http.Header) {
	u, err := url.Parse(link)
	require.NoError(t, err)
	resp, err := http.Get(f.srv.URL + u.RequestURI())
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func TestPageLinksAreCredentials(t *testing.T) {
	f, srv := newPageFixture(t, &fakeClient{})
	link, err := srv.PageLink("alice", api.PageRequest{Purpose: PurposeEnroll})
	require.NoError(t, err)
	code, body, hdr := get(t, f, link.URL)
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, "Enroll a passkey for alice")
	assert.Contains(t, hdr.Get("Content-Security-Policy"), "script-src 'self'")
	assert.Equal(t, "no-referrer", hdr.Get("Referrer-Policy"), "the link is in the URL")

	cases := map[string]string{
		"no link":           "/enroll",
		"another identity":  strings.Replace(link.URL, "as=alice", "as=bob", 1),
		"a later expiry":    strings.Replace(link.URL, "until=", "until=9", 1),
		"another purpose":   strings.Replace(link.URL, "/enroll?", "/approve?", 1),
		"a forged sig":      link.URL[:len(link.URL)-4] + "AAAA",
		"another key":       mustLink(t, New(Options{Policy: testPolicy(), PageURL: "http://localhost:1", PageSecret: []byte("other")}), "alice"),
		"an expired link":   srv.page.keys.URL(pageLink{Purpose: PurposeEnroll, Identity: "alice", Expires: time.Now().Add(-time.Second)}),
		"a link for a bot":  srv.page.keys.URL(pageLink{Purpose: PurposeEnroll, Identity: "scan-bot", Expires: time.Now().Add(time.Hour)}),
		"nobody's identity": srv.page.keys.URL(pageLink{Purpose: PurposeEnroll, Identity: "mallory", Expires: time.Now().Add(time.Hour)}),
	}
	for name, l := range cases {
		code, body, _ := get(t, f, l)
		assert.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, code, "%s: %s", name, body)
		assert.NotContains(t, body, "Create passkey", name)
	}
}

func mustLink(t *testing.T, s *Server, identity string) string {
	l, err := s.PageLink(identity, api.PageRequest{Purpose: PurposeEnroll})
	require.NoError(t, err)
	return l.URL
}

// postPage posts body to a page call with the link's query and origin.
func postPage(t *testing.T, f *signedFixture, path, link, origin, body string) (int, string) {
	u, _ := url.Parse(link)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path+"?"+u.RawQuery, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A page call posted from another origin is refused even with the link
// (a page elsewhere that learnt it cannot drive the ceremony).
func TestPageCallsOnlyFromThePage(t *testing.T) {
	f, srv := newPageFixture(t, &fakeClient{})
	link := mustLink(t, srv, "alice")
	code, body := postPage(t, f, "/enroll/challenge", link, "https://evil.example", "{}")
	assert.Equal(t, http.StatusForbidden, code, body)
	assert.Contains(t, body, "not the approval page's")
	code, body = postPage(t, f, "/enroll/challenge", link, srv.page.keys.Origin(), "{}")
	assert.Equal(t, http.StatusOK, code, body)
}

// A nonce is the gateway's, single use, and the link's person's: an
// assertion over a statement the gateway did not hand out, or handed to
// someone else, never reaches the release.
func TestPageNonceIsSingleUseAndPersonal(t *testing.T) {
	fake := &fakeClient{binding: signedBinding()}
	f, srv := newPageFixture(t, fake)
	l := pageLink{Purpose: PurposeApprove, Release: releaseID, Gate: "approval", Identity: "alice", Expires: time.Now().Add(time.Hour)}
	link := srv.page.keys.URL(l)
	pk := testpasskey.New("localhost", srv.page.keys.Origin())
	statement := []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)
	bobs := srv.page.challenges.issue(challenge{identity: "bob", purpose: PurposeApprove,
		req: api.DecisionRequest{ReleaseID: releaseID, Gate: "approval"}})
	for name, nonce := range map[string][]byte{"never issued": []byte("0123456789abcdef0123456789abcdef"), "issued to bob": bobs} {
		a := pk.Sign(statement, nonce, testpasskey.Options{})
		body := `{"nonce":"` + b64(nonce) + `","credential_id":"` + b64(a.CredentialID) + `","authenticator_data":"` +
			b64(a.AuthenticatorData) + `","client_data_json":"` + b64(a.ClientDataJSON) + `","signature":"` + b64(a.Signature) + `"}`
		code, resp := postPage(t, f, "/approve/decide", link, srv.page.keys.Origin(), body)
		assert.Equal(t, http.StatusForbidden, code, "%s: %s", name, resp)
		assert.Contains(t, resp, "nonce:", name)
	}
	_, again := srv.page.challenges.take(b64(bobs))
	assert.False(t, again, "a nonce is taken by its first use, whoever sent it")
	assert.Empty(t, fake.updates, "nothing reached the release")
}
