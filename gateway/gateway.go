// Package gateway is the approval role's HTTP server: the one component that
// authenticates people and bots, and vouches for them by signing what they
// asked with the approval role's key.
//
// POST /v1/decisions, with "Authorization: Bearer TOKEN" and the body
// {"release_id","gate","verdict","comment","request_id"} (request_id
// optional; the identity is the token's, never the body's), and Slack button
// clicks (POST /slack/interactions, or Socket Mode) are decisions. For each,
// the gateway queries the release's binding (api.QueryBinding: policy
// hash and artifact digest, cached per release once the digest is known),
// signs an attest.Decision about the artifact, bound to the release and its
// policy, naming the identity, channel and the evidence it checked (token
// fingerprint, or Slack team, user and action time), and sends it as the
// release's "decide" Update. The Update id is the caller's request id
// scoped by identity, so a retry is the same update and gets the same answer.
// Answers: 200 accepted, 403 refused (with the refusing rule's code in
// "rule" and the workflow's reason for people in "reason"), 409
// gate_closed (also when no artifact is attested yet, so no gate can be
// open), 404 unknown release, 202 pending (not processed in time: send the
// same request_id again), 400/413 bad body, 401 bad token, 429 rate limited,
// 503 Temporal unreachable or no signing key.
//
// POST /v1/cancels, authenticated the same way, with the body
// {"release_id","reason","request_id"}, signs an attest.Cancel about the
// release (channel "cli" for the starter's User-Agent "foureyes-starter/...",
// else "api") and sends it as the "cancel" Update: 200 accepted, 403 refused,
// 404, 409, 503 as for decisions.
//
// Every authenticated identity has a token bucket (RateLimit, default 5 per
// second, bursts of 20); over it the answer is 429 with Retry-After in whole
// seconds, and a Slack click gets an ephemeral reply instead of a decision.
//
// Releases started before signed decisions (Binding.Signed false) still get
// the unsigned decision and cancel signals, with the outcome polled from
// QueryDecision.
package gateway

import (
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/policy"
)

// Defaults for Options.
const (
	DefaultMaxBodyBytes = 64 << 10
	DefaultDecisionWait = 3 * time.Second
	// temporalTimeout bounds each call to Temporal.
	temporalTimeout = 5 * time.Second
)

// Options configure a Server.
type Options struct {
	Client       client.Client
	Policy       *policy.Policy
	Logger       *slog.Logger
	MaxBodyBytes int64         // default 64 KiB
	DecisionWait time.Duration // default 3s: how long to wait for the workflow's outcome
	Slack        *SlackOptions // nil: no Slack interactions
	// Signer is the approval role's key (attest.LoadSigner(attest.RoleApproval,
	// $FOUREYES_APPROVAL_SIGNING_KEY_FILE)). Without it, decisions on releases
	// that take only signed ones are answered 503.
	Signer    *attest.Signer
	RateLimit *RateLimit // nil: DefaultRateLimit; PerSecond 0: no limit
	// PolicyHash is the hex SHA-256 of Policy's file: emergency
	// declarations are bound to it (releases pin the same file).
	PolicyHash string
	// Bindings is the cache of what decisions are bound to; the approval
	// role shares it with its notifier (Bindings.Prompted). nil: a new one.
	Bindings *Bindings
	// PageURL is the approval page's base URL as browsers reach it
	// (https://HOST[:PORT], http only for localhost); its host name is the
	// passkeys' relying party. "": no page is served.
	PageURL string
	// PageSecret keys the page links' HMAC; empty: a random key, so that
	// links die with the process.
	PageSecret []byte
	// DataConverter decodes what the gateway reads from a release's memo
	// (its trace); nil: the SDK's default (no payload key).
	DataConverter converter.DataConverter
}

// Server answers decision requests.
type Server struct {
	client       client.Client
	policy       *policy.Policy
	policyHash   string
	log          *slog.Logger
	maxBody      int64
	decisionWait time.Duration
	slack        *slackState
	signer       *attest.Signer
	limits       *limiters // nil: no limit
	bindings     *Bindings
	page         *pageState      // nil: no approval page
	requests     *signedRequests // one envelope per Update id (requests.go)
	dc           converter.DataConverter
	traces       traceCache // each release's root span (trace.go)
}

// New returns a Server with defaults filled in.
func New(o Options) *Server {
	s := &Server{client: o.Client, policy: o.Policy, policyHash: o.PolicyHash, log: o.Logger,
		maxBody: o.MaxBodyBytes, decisionWait: o.DecisionWait, slack: newSlackState(o.Slack),
		signer: o.Signer, limits: newLimiters(o.RateLimit), bindings: o.Bindings,
		requests: newSignedRequests(), dc: o.DataConverter}
	if s.dc == nil {
		s.dc = converter.GetDefaultDataConverter()
	}
	if s.bindings == nil {
		s.bindings = &Bindings{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if o.PageURL != "" {
		s.page = s.newPage(o.PageURL, o.PageSecret)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.decisionWait <= 0 {
		s.decisionWait = DefaultDecisionWait
	}
	return s
}

// Handler routes POST /v1/decisions, POST /v1/cancels, GET /healthz, with a
// Slack signing secret POST /slack/interactions, and with a page URL the
// approval and enroll pages (page.go, enroll.go) and POST /v1/pages.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(api.PathDecisions, s.handleDecision)
	mux.HandleFunc(api.PathBatch, s.handleBatch)
	mux.HandleFunc(api.PathCancels, s.handleCancel)
	mux.HandleFunc(api.PathEmergencies, s.handleEmergency)
	mux.HandleFunc(api.PathStatements, s.handleStatement)
	if s.slack != nil && s.slack.opts.SigningSecret != "" {
		mux.HandleFunc(api.PathSlackInteractions, s.handleSlackInteraction)
	}
	if s.page != nil {
		s.pageRoutes(mux)
	}
	mux.HandleFunc("/healthz", s.handleHealth)
	return withCallerTrace(mux)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
