package gateway

import (
	"context"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"time"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/judge"
	"github.com/foureyes/foureyes/policy"
)

// The approval page: what a person approves, rendered by the gateway from
// the release's signed build provenance (never from a prompt's text), and
// their passkey's assertion over the statement of their decision.

//go:embed page/*.html page/*.js page/*.css
var pageFiles embed.FS

var pageTemplates = template.Must(template.ParseFS(pageFiles, "page/*.html"))

// pageCSP allows the gateway's own script and style and nothing else: no
// inline code, no other origin, no framing, no form posts.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// pageState is the approval and enroll pages' state.
type pageState struct {
	keys       *pageKeys
	challenges challenges
}

// pageRoutes serves the pages and their assets (with a page URL set).
func (s *Server) pageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /approve", s.approvePage)
	mux.HandleFunc("POST /approve/challenge", s.approveChallenge)
	mux.HandleFunc("POST /approve/decide", s.approveDecide)
	mux.HandleFunc("GET /enroll", s.enrollPage)
	mux.HandleFunc("POST /enroll/challenge", s.enrollChallenge)
	mux.HandleFunc("POST /enroll/finish", s.enrollFinish)
	mux.HandleFunc("GET /page/", s.pageAsset)
	mux.HandleFunc(api.PathPages, s.handlePageLink)
}

// pageHeaders: no caching (links are credentials), no referrer (the link
// is in the URL), the CSP, no sniffing.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
}

func (s *Server) pageAsset(w http.ResponseWriter, r *http.Request) {
	types := map[string]string{"/page/page.js": "text/javascript; charset=utf-8", "/page/page.css": "text/css; charset=utf-8"}
	ct, ok := types[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	body, _ := pageFiles.ReadFile(r.URL.Path[1:])
	pageHeaders(w)
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(body)
}

// pageLinkOf admits a page request: its link is this gateway's, live, for
// purpose, and names a human; otherwise it answers 401 or 403.
func (s *Server) pageLinkOf(w http.ResponseWriter, r *http.Request, purpose string) (pageLink, bool) {
	l, err := s.page.keys.read(r, purpose)
	status := http.StatusUnauthorized
	if err == nil && !mayOpen(s.policy, l.Identity) {
		err, status = errNotHuman(l.Identity), http.StatusForbidden
	}
	if err == nil && r.Method == http.MethodPost && r.Header.Get("Origin") != s.page.keys.Origin() {
		err, status = errForeignOrigin(r.Header.Get("Origin")), http.StatusForbidden
	}
	if err != nil {
		s.log.Warn("page refused", "path", r.URL.Path, "remote", r.RemoteAddr, "error", err)
		pageError(w, r, status, err.Error())
		return l, false
	}
	return l, !s.limited(w, l.Identity)
}

// pageError answers a page with HTML and its script's calls with JSON.
func pageError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	pageHeaders(w)
	if r.Method == http.MethodPost {
		writeError(w, status, msg)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pageTemplates.ExecuteTemplate(w, "error.html", map[string]string{"Error": msg})
}

// approveView is what the approval page shows.
type approveView struct {
	Link        pageLink
	Rel         judge.Release
	Params      attest.BuildParameters
	Proof       string
	MoreCommits int
	Expires     string
}

func (s *Server) approvePage(w http.ResponseWriter, r *http.Request) {
	l, ok := s.pageLinkOf(w, r, PurposeApprove)
	if !ok {
		return
	}
	v, err := s.approveViewOf(r.Context(), l)
	if err != nil {
		pageError(w, r, http.StatusConflict, err.Error())
		return
	}
	pageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplates.ExecuteTemplate(w, "approve.html", v); err != nil {
		s.log.Error("approval page", "error", err)
	}
}

// approveViewOf renders the release from its verified provenance.
func (s *Server) approveViewOf(ctx context.Context, l pageLink) (approveView, error) {
	rel, _, params, err := s.verifiedRelease(ctx, l.Release)
	if err != nil {
		return approveView{}, err
	}
	v := approveView{Link: l, Rel: rel, Params: params, Proof: s.policy.ProofAt(rel.Environment, l.Gate),
		Expires: l.Expires.UTC().Format(time.RFC3339)}
	if c := params.Change; c != nil {
		v.MoreCommits = c.CommitCount - len(c.Commits)
	}
	return v, nil
}

// challengeRequest is the page's ask for a statement to sign.
type challengeRequest struct {
	Verdict string `json:"verdict"`
	Comment string `json:"comment"`
}

// challengeAnswer is what navigator.credentials.get needs, and the
// statement for the person to read.
type challengeAnswer struct {
	Nonce            string   `json:"nonce"`
	Challenge        string   `json:"challenge"`
	Statement        string   `json:"statement"`
	RPID             string   `json:"rp_id"`
	AllowCredentials []string `json:"allow_credentials"`
	TimeoutMS        int64    `json:"timeout_ms"`
}

// approveChallenge renders the statement of the person's decision and
// issues its challenge: SHA-256 of the statement and a fresh nonce.
func (s *Server) approveChallenge(w http.ResponseWriter, r *http.Request) {
	l, ok := s.pageLinkOf(w, r, PurposeApprove)
	if !ok {
		return
	}
	var cr challengeRequest
	if bad := decodeStrict(w, r, s.maxBody, &cr); bad != nil {
		writeError(w, bad.status, bad.msg)
		return
	}
	req := api.DecisionRequest{ReleaseID: l.Release, Gate: l.Gate, Verdict: cr.Verdict, Comment: cr.Comment,
		RequestID: "page-" + randomID()}
	if bad := validateDecision(req); bad != nil {
		writeError(w, bad.status, bad.msg)
		return
	}
	creds := s.credentialsOf(l.Identity)
	if len(creds) == 0 {
		writeError(w, http.StatusConflict, "the policy lists no passkey of "+l.Identity+" for "+s.page.keys.RPID()+": enroll one (starter passkey enroll) and add it to the policy")
		return
	}
	offer, err := s.Statement(r.Context(), l.Identity, req)
	if err != nil {
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	req.Proof = &attest.Proof{Statement: offer.Statement}
	nonce := s.page.challenges.issue(challenge{identity: l.Identity, purpose: PurposeApprove, req: req})
	writeJSON(w, http.StatusOK, challengeAnswer{Nonce: b64(nonce), Challenge: b64(attest.PasskeyChallenge(offer.Statement, nonce)),
		Statement: string(offer.Statement), RPID: s.page.keys.RPID(), AllowCredentials: creds,
		TimeoutMS: challengeTTL.Milliseconds()})
}

// credentialsOf lists identity's passkeys for this page's relying party.
func (s *Server) credentialsOf(identity string) []string {
	var ids []string
	for _, h := range s.policy.Humans {
		if h.ID != identity {
			continue
		}
		for _, c := range h.WebAuthn {
			if c.RPID == s.page.keys.RPID() {
				ids = append(ids, c.CredentialID)
			}
		}
	}
	return ids
}

// assertionBody is the browser's assertion, base64url fields.
type assertionBody struct {
	Nonce             string `json:"nonce"`
	CredentialID      string `json:"credential_id"`
	AuthenticatorData string `json:"authenticator_data"`
	ClientDataJSON    string `json:"client_data_json"`
	Signature         string `json:"signature"`
}

// approveDecide takes the challenge back (once), checks the assertion is
// the person's over that statement and relays the decision as
// /v1/decisions does, answering the workflow's outcome.
func (s *Server) approveDecide(w http.ResponseWriter, r *http.Request) {
	l, ok := s.pageLinkOf(w, r, PurposeApprove)
	if !ok {
		return
	}
	var ab assertionBody
	if bad := decodeStrict(w, r, s.maxBody, &ab); bad != nil {
		writeError(w, bad.status, bad.msg)
		return
	}
	req, bad := s.assertedDecision(l, ab)
	if bad == nil {
		bad = s.checkProof(l.Identity, req)
	}
	if bad != nil {
		s.log.Info("page decision refused", "WorkflowID", l.Release, "identity", l.Identity, "error", bad.msg)
		writeError(w, bad.status, bad.msg)
		return
	}
	c := caller{identity: l.Identity, channel: api.ChannelPage, evidence: linkEvidence(r)}
	ctx, end := s.inRelease(r.Context(), "decide", req.ReleaseID)
	ans, status := s.decide(ctx, c, req)
	s.log.InfoContext(ctx, "decision", "channel", api.ChannelPage, "WorkflowID", req.ReleaseID, "gate", req.Gate, "verdict", req.Verdict,
		"identity", l.Identity, "request_id", req.RequestID, "outcome", ans.Outcome, "reason", ans.Reason, "status", status)
	end(status, decisionAttrs(c, req, ans)...)
	writeJSON(w, status, ans)
}

// assertedDecision is the decision of the nonce's challenge with the
// assertion as its proof: the challenge must be live, unused, and this
// link's person's, release's and gate's.
func (s *Server) assertedDecision(l pageLink, ab assertionBody) (api.DecisionRequest, *badRequest) {
	c, ok := s.page.challenges.take(ab.Nonce)
	switch {
	case !ok:
		return api.DecisionRequest{}, &badRequest{http.StatusForbidden, "nonce: not issued by this gateway, already used, or expired: ask again"}
	case c.purpose != PurposeApprove || c.identity != l.Identity || c.req.ReleaseID != l.Release || c.req.Gate != l.Gate:
		return api.DecisionRequest{}, &badRequest{http.StatusForbidden, "nonce: issued for another person, release or gate"}
	}
	a, err := ab.assertion(c.nonce)
	if err != nil {
		return api.DecisionRequest{}, invalid("assertion: %v", err)
	}
	req := c.req
	req.Proof = &attest.Proof{Statement: c.req.Proof.Statement, Passkey: a}
	return req, nil
}

func (ab assertionBody) assertion(nonce []byte) (*attest.Assertion, error) {
	a := &attest.Assertion{Nonce: nonce}
	fields := []struct {
		name string
		in   string
		out  *[]byte
	}{{"credential_id", ab.CredentialID, &a.CredentialID}, {"authenticator_data", ab.AuthenticatorData, &a.AuthenticatorData},
		{"client_data_json", ab.ClientDataJSON, &a.ClientDataJSON}, {"signature", ab.Signature, &a.Signature}}
	for _, f := range fields {
		b, err := policy.DecodeB64URL(f.in)
		if err != nil || len(b) == 0 {
			return nil, errField(f.name)
		}
		*f.out = b
	}
	return a, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
