package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/audit"
	"github.com/foureyes/foureyes/gateway"
	"github.com/foureyes/foureyes/internal/headless"
	"github.com/foureyes/foureyes/internal/stacktest"
	"github.com/foureyes/foureyes/internal/testpasskey"
	"github.com/foureyes/foureyes/policy"
)

// browserT is headless Chromium with a virtual platform authenticator.
type browserT struct {
	*headless.Browser
	t    *testing.T
	ctx  context.Context
	auth string
}

// TestPasskeyApprovalInChromium: carol and dave enroll passkeys through
// the enroll page in a real Chromium (DevTools virtual authenticator), the
// policy lists them and makes the prod approval gate "approver"; spoiled
// assertions are refused on the page and count nowhere; then both approve
// on their pages and the release deploys, its trail carrying their
// passkey assertions.
func TestPasskeyApprovalInChromium(t *testing.T) {
	b := startBrowser(t)
	s := startPasskeyStack(t, b, "carol", "dave")
	run := s.start("payments", "prod", "v1.4.0", []string{"alice"}, "rita")
	id := run.GetID()
	s.waitStatus(id, api.StatusAwaitingReview)
	code, a := s.decide(id, "review", "approve", "bob") // review's proof stays "gateway"
	require.Equal(t, http.StatusOK, code, a.Reason)
	s.waitStatus(id, api.StatusAwaitingApproval)

	code, a = s.decide(id, "approval", "approve", "carol")
	require.Equal(t, http.StatusForbidden, code, "the approval role's word for carol is not carol's: %+v", a)
	assert.Contains(t, a.Reason, "needs carol's own signature")
	carol := s.pageLink("carol", id)
	b.attacks(s, id, carol)
	assert.Empty(t, s.status(id).Signed, "no spoiled assertion counted")

	assert.Contains(t, b.decideOnPage(carol, "approve"), "Outcome: accepted")
	b.screenshot("approval-page.png")
	out, code := s.starter("dave", "page", id) // the CLI's way to the page
	require.Zero(t, code, out)
	assert.Contains(t, b.decideOnPage(strings.Fields(out)[0], "approve"), "Outcome: accepted")
	res := s.result(run)
	require.Equal(t, api.StatusDeployed, res.Status, res.Reason)
	entries := s.trail(id)
	require.NoError(t, s.VerifySigned(entries))
	assert.Equal(t, []string{"carol", "dave"}, passkeySigners(t, s.Ring, entries))
}

// startPasskeyStack starts the stack on the no-promotion policy whose prod
// approval gate takes only the approver's own signature, listing the
// passkeys who enrolled first in the browser.
func startPasskeyStack(t *testing.T, b *browserT, who ...string) *stackT {
	if testing.Short() {
		t.Skip("integration test skipped in -short mode")
	}
	s := &stackT{t: t}
	opts := stacktest.Options{TempPrefix: "foureyes-passkey-", Prepare: func(st *stacktest.Stack) error {
		s.git = makeCommits(t, st.Local.RepoDir())
		return nil
	}, BasePolicy: func(st *stacktest.Stack) (string, error) {
		path, err := stacktest.WithoutPromotion(st)
		if err == nil {
			err = listPasskeys(path, b.enroll(path, who...))
		}
		return path, err
	}}
	var err error
	s.Stack, err = stacktest.Start(context.Background(), opts)
	if s.Stack != nil {
		t.Cleanup(s.Stop)
	}
	require.NoError(t, err)
	return s
}

// enroll makes each person's passkey through the enroll page of a gateway
// serving the policy at path (no Temporal: enrolling needs none), as
// people do before their policy lists it; it returns the policy lines.
func (b *browserT) enroll(path string, who ...string) map[string]policy.WebAuthnKey {
	p, _, err := policy.Load(path)
	require.NoError(b.t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b.t, err)
	srv := gateway.New(gateway.Options{Policy: p, PageURL: "http://localhost:" + port(ln)})
	hs := &http.Server{Handler: srv.Handler()}
	go func() { _ = hs.Serve(ln) }()
	// Close ends the browser's kept-alive connections too: the stack may be
	// given this port next, and an open connection on it stops its bind.
	defer hs.Close()
	keys := map[string]policy.WebAuthnKey{}
	for _, w := range who {
		link, err := srv.PageLink(w, api.PageRequest{Purpose: gateway.PurposeEnroll})
		require.NoError(b.t, err)
		require.NoError(b.t, b.Open(link.URL, 1100, 900))
		require.NoError(b.t, b.WaitText(b.ctx, 20*time.Second, "Enroll a passkey for "+w))
		require.Contains(b.t, b.click("enroll"), "Enrolled.")
		var lines string
		require.NoError(b.t, b.Eval(`document.getElementById('policy').textContent`, &lines))
		var entry struct{ WebAuthn []policy.WebAuthnKey }
		require.NoError(b.t, yaml.Unmarshal([]byte(lines), &entry), lines)
		require.Len(b.t, entry.WebAuthn, 1, lines)
		keys[w] = entry.WebAuthn[0]
	}
	return keys
}

func port(ln net.Listener) string {
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

// listPasskeys adds the enrolled credentials under their people and makes
// prod's approval gate "approver", as a reviewed policy change would.
func listPasskeys(path string, keys map[string]policy.WebAuthnKey) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	for _, h := range doc["humans"].([]any) {
		h := h.(map[string]any)
		if k, ok := keys[h["id"].(string)]; ok {
			h["webauthn"] = []map[string]string{{"credential_id": k.CredentialID, "public_key": k.PublicKey, "rp_id": k.RPID}}
		}
	}
	gates := doc["environments"].(map[string]any)["prod"].(map[string]any)["gates"].(map[string]any)
	gates["approval"].(map[string]any)["proof"] = policy.ProofApprover
	out, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}

// pageLink is who's link to their approval page (POST /v1/pages, with
// their token).
func (s *stackT) pageLink(who, id string) string {
	body, _ := json.Marshal(api.PageRequest{Purpose: gateway.PurposeApprove, ReleaseID: id, Gate: "approval"})
	code, raw, err := s.Post(context.Background(), api.PathPages, "Bearer "+s.Tokens[who], body, nil)
	require.NoError(s.t, err)
	require.Equal(s.t, http.StatusOK, code, "%s", raw)
	var l api.PageLink
	require.NoError(s.t, json.Unmarshal(raw, &l))
	return l.URL
}

// click presses a page's button and returns what the page says once the
// ceremony ended (the outcome's class is set).
func (b *browserT) click(button string) string {
	b.waitReady()
	require.NoError(b.t, b.Eval(`document.getElementById('outcome').className = ''; document.getElementById('`+button+`').click()`, nil))
	deadline := time.Now().Add(30 * time.Second)
	var cls, text string
	for time.Now().Before(deadline) {
		_ = b.Eval(`document.getElementById('outcome').className`, &cls)
		_ = b.Eval(`document.getElementById('outcome').textContent`, &text)
		if cls != "" {
			return text
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.t.Fatalf("the page never said how %s ended; it says %q", button, text)
	return ""
}

// waitReady waits for the page's script to take its buttons (the page
// itself renders before it).
func (b *browserT) waitReady() {
	for i := 0; i < 100; i++ {
		var ready string
		if _ = b.Eval(`document.body.dataset.ready || ''`, &ready); ready == "1" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatal("the page's script never took its buttons")
}

// decideOnPage opens a person's page and presses the verdict's button.
func (b *browserT) decideOnPage(link, verdict string) string {
	require.NoError(b.t, b.Open(link, 1100, 1250))
	require.NoError(b.t, b.WaitText(b.ctx, 30*time.Second, "Your decision", "sha256:"))
	return b.click(verdict)
}

// attacks spoil carol's assertions one way each: refused, with the reason.
func (b *browserT) attacks(s *stackT, id, link string) {
	for _, c := range []struct {
		o    headless.Override
		want string
	}{{headless.Override{BogusSignature: true}, "bad signature"}, {headless.Override{BadUP: true}, "flag UP off"},
		{headless.Override{BadUV: true}, "flag UV off"}} {
		require.NoError(b.t, b.SetOverride(b.auth, c.o))
		got := b.decideOnPage(link, "approve")
		assert.Contains(b.t, got, "Not recorded: proof:", "%+v", c.o)
		assert.Contains(b.t, got, c.want, "%+v", c.o)
	}
	require.NoError(b.t, b.SetOverride(b.auth, headless.Override{}))
	b.otherOrigin(s, link)
}

// otherOrigin signs carol's statement with her own passkey's key (taken
// from the virtual authenticator) for a page of another origin: refused.
func (b *browserT) otherOrigin(s *stackT, link string) {
	origin := strings.SplitN(link, "/approve?", 2)[0]
	query := strings.SplitN(link, "?", 2)[1]
	hdr := http.Header{"Origin": {origin}, "Content-Type": {"application/json"}}
	code, raw, err := s.Post(b.ctx, "/approve/challenge?"+query, "", []byte(`{"verdict":"approve","comment":""}`), hdr)
	require.NoError(b.t, err)
	require.Equal(b.t, http.StatusOK, code, "%s", raw)
	var ch struct{ Nonce, Statement string }
	require.NoError(b.t, json.Unmarshal(raw, &ch))
	nonce, _ := base64.RawURLEncoding.DecodeString(ch.Nonce)
	a := b.passkey("https://evil.example").Sign([]byte(ch.Statement), nonce, testpasskey.Options{})
	body, _ := json.Marshal(map[string]string{"nonce": ch.Nonce, "credential_id": enc(a.CredentialID),
		"authenticator_data": enc(a.AuthenticatorData), "client_data_json": enc(a.ClientDataJSON), "signature": enc(a.Signature)})
	code, raw, err = s.Post(b.ctx, "/approve/decide?"+query, "", body, hdr)
	require.NoError(b.t, err)
	assert.Equal(b.t, http.StatusForbidden, code, "%s", raw)
	assert.Contains(b.t, string(raw), "origin https://evil.example is not of relying party localhost")
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// passkey is the virtual authenticator's (only) localhost credential of
// carol's, with its private key, used from origin.
func (b *browserT) passkey(origin string) *testpasskey.Authenticator {
	creds, err := b.Credentials(b.auth)
	require.NoError(b.t, err)
	for _, c := range creds {
		if !strings.Contains(string(mustB64(b.t, c.UserHandle)), "carol") {
			continue
		}
		der := mustB64(b.t, c.PrivateKey)
		k, err := x509.ParsePKCS8PrivateKey(der)
		require.NoError(b.t, err)
		return testpasskey.FromKey(c.RPID, origin, mustB64(b.t, c.CredentialID), k.(*ecdsa.PrivateKey))
	}
	b.t.Fatal("the authenticator holds no credential of carol's")
	return nil
}

func mustB64(t *testing.T, s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

// screenshot keeps the page: in the test's folder, and in docs/images
// when FOUREYES_DOCS_SCREENSHOTS is set (the docs' picture of the page).
func (b *browserT) screenshot(name string) {
	dir := b.t.TempDir()
	if os.Getenv("FOUREYES_DOCS_SCREENSHOTS") != "" {
		dir = filepath.Join("..", "..", "docs", "images")
	}
	require.NoError(b.t, os.MkdirAll(dir, 0o755))
	require.NoError(b.t, b.Screenshot(filepath.Join(dir, name)))
}

// passkeySigners are the deciders whose accepted decision in the trail
// carries their own passkey assertion.
func passkeySigners(t *testing.T, ring attest.KeyRing, entries []audit.Entry) []string {
	var ids []string
	for _, e := range entries {
		if e.Type != audit.EventDecision || e.Stage != api.StageOfGate("approval") {
			continue
		}
		f, err := ring.Verify(attest.Envelope(e.Envelope), attest.RoleApproval, attest.PredicateDecision)
		require.NoError(t, err)
		var d attest.Decision
		require.NoError(t, f.Decode(&d))
		if d.Proof != nil && d.Proof.Passkey != nil && d.Channel == api.ChannelPage {
			ids = append(ids, e.Actor)
		}
	}
	return ids
}

func startBrowser(t *testing.T) *browserT {
	bin, err := exec.LookPath("chromium")
	if err != nil || testing.Short() {
		t.Skip("needs Debian's chromium (apt-get install chromium; go run ./stack screenshots installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	br, err := headless.Start(ctx, bin)
	require.NoError(t, err)
	t.Cleanup(br.Close)
	auth, err := br.AddAuthenticator(headless.PlatformPasskey())
	require.NoError(t, err)
	return &browserT{Browser: br, t: t, ctx: ctx, auth: auth}
}
