// Package gateway is the approval role's HTTP server. Bots and people with an
// API token post decisions to POST /v1/decisions; the gateway authenticates
// the token, signals the release workflow and answers with the outcome the
// workflow reports for that decision.
package gateway

import (
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"

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
}

// Server answers decision requests.
type Server struct {
	client       client.Client
	policy       *policy.Policy
	log          *slog.Logger
	maxBody      int64
	decisionWait time.Duration
	slack        *slackState
}

// New returns a Server with defaults filled in.
func New(o Options) *Server {
	s := &Server{client: o.Client, policy: o.Policy, log: o.Logger,
		maxBody: o.MaxBodyBytes, decisionWait: o.DecisionWait, slack: newSlackState(o.Slack)}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.decisionWait <= 0 {
		s.decisionWait = DefaultDecisionWait
	}
	return s
}

// Handler routes POST /v1/decisions, GET /healthz and, with a Slack signing
// secret, POST /slack/interactions.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/decisions", s.handleDecision)
	if s.slack != nil && s.slack.opts.SigningSecret != "" {
		mux.HandleFunc(SlackInteractionsPath, s.handleSlackInteraction)
	}
	mux.HandleFunc("/healthz", s.handleHealth)
	return mux
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
