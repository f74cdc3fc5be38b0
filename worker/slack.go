package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/activities"
	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/gateway"
	"github.com/foureyes/foureyes/policy"
)

// slackTimeout bounds each Slack Web API call; the activity is retried.
const slackTimeout = 10 * time.Second

// slackClient is the bot (and, with an app token, Socket Mode) client.
func slackClient(cfg *config.Approval) *slack.Client {
	opts := []slack.Option{slack.OptionHTTPClient(&http.Client{Timeout: slackTimeout})}
	if cfg.SlackAPIURL != "" {
		opts = append(opts, slack.OptionAPIURL(strings.TrimRight(cfg.SlackAPIURL, "/")+"/"))
	}
	if cfg.SlackAppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.SlackAppToken))
	}
	return slack.New(cfg.SlackBotToken, opts...)
}

// approvalNotifier prints every notification and, with a bot token, also
// posts it to Slack.
func approvalNotifier(cfg *config.Approval, e roleEnv, pol *policy.Policy) activities.Notifier {
	console := &activities.ConsoleNotifier{W: e.stdout, UIURL: cfg.UIURL, Namespace: e.temporal.Namespace}
	if cfg.SlackBotToken == "" {
		return console
	}
	return activities.Notifiers{console, &activities.SlackNotifier{Client: slackClient(cfg),
		UIURL: cfg.UIURL, Namespace: e.temporal.Namespace, OnPage: onPage(cfg, pol)}}
}

// onPage: with the approval page served, a gate whose proof is "approver"
// (by the approval role's own policy, not the prompt's word) is prompted
// with the page's button.
func onPage(cfg *config.Approval, pol *policy.Policy) func(env, gate string) bool {
	if pageURL(cfg) == "" {
		return nil
	}
	return func(env, gate string) bool { return pol.ProofAt(env, gate) == policy.ProofApprover }
}

// promptedBindings tells the gateway, at each prompt, what decisions on
// the prompted release are bound to, so that answering the prompt needs no
// query first (gateway.Bindings.Prompted).
type promptedBindings struct{ b *gateway.Bindings }

func (p promptedBindings) Notify(_ context.Context, n api.Notification) (string, error) {
	if n.Kind == api.NotifyPrompt {
		p.b.Prompted(n)
	}
	return n.Ref, nil
}

// gatewaySlack enables Slack clicks: signed HTTP and/or Socket Mode.
func gatewaySlack(cfg *config.Approval) *gateway.SlackOptions {
	if cfg.SlackSigningSecret == "" && cfg.SlackAppToken == "" {
		return nil
	}
	return &gateway.SlackOptions{SigningSecret: cfg.SlackSigningSecret, TeamID: cfg.SlackTeamID,
		Client: slackClient(cfg)}
}

// sharedGateway builds the approval role's gateway once, for both the HTTP
// handler and Socket Mode.
type sharedGateway struct {
	once sync.Once
	opts gateway.Options
	srv  *gateway.Server
}

func (g *sharedGateway) get(c client.Client, log *slog.Logger) *gateway.Server {
	g.once.Do(func() {
		o := g.opts
		o.Client, o.Logger = c, log
		g.srv = gateway.New(o)
	})
	return g.srv
}

// socketMode runs Slack Socket Mode beside the worker when an app token is set.
func socketMode(cfg *config.Approval, g *sharedGateway) func(context.Context, client.Client, *slog.Logger) {
	if cfg.SlackAppToken == "" {
		return nil
	}
	return func(ctx context.Context, c client.Client, log *slog.Logger) {
		srv := g.get(c, log)
		srv.RunSocketMode(ctx, socketmode.New(slackClient(cfg)))
		srv.WaitSlack()
	}
}
