package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"

	"github.com/sethvargo/go-envconfig"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/foureyes/foureyes/activities"
	"github.com/foureyes/foureyes/api"
	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/gateway"
	"github.com/foureyes/foureyes/policy"
	"github.com/foureyes/foureyes/workflows"
)

// role is one wired role: its identity, its queue, what its worker registers
// and, for the approval role, the HTTP handler it serves on listen beside
// the worker.
type role struct {
	identity string
	queue    string
	// workflows: the role runs workflows (the orchestrator). The others poll
	// only activity tasks: the server allows them nothing else.
	workflows bool
	register  func(worker.Registry)
	listen    string
	handler   func(c client.Client, log *slog.Logger) http.Handler
	// background runs beside the worker until ctx ends (Slack Socket Mode).
	background func(ctx context.Context, c client.Client, log *slog.Logger)
}

// roleEnv is what a role's wiring may read.
type roleEnv struct {
	lookup   envconfig.Lookuper
	temporal config.Temporal
	stdout   io.Writer
}

var roles = map[string]func(context.Context, roleEnv) (*role, error){
	config.RoleOrchestrator: orchestratorRole,
	config.RoleBuild:        buildRole,
	config.RoleReview:       reviewRole,
	config.RoleApproval:     approvalRole,
	config.RoleDeploy:       deployRole,
}

func orchestratorRole(ctx context.Context, e roleEnv) (*role, error) {
	cfg, err := config.Load[config.Orchestrator](ctx, config.RoleOrchestrator, e.lookup)
	if err != nil {
		return nil, err
	}
	signer, err := loadSigner(config.RoleOrchestrator, cfg.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	// Fail at start rather than at the first release.
	if _, err := loadKeyedPolicy(cfg.PolicyFile); err != nil {
		return nil, err
	}
	if cfg.CacheSize < 1 {
		return nil, fmt.Errorf("FOUREYES_ORCHESTRATOR_CACHE_SIZE: must be at least 1 (got %d)", cfg.CacheSize)
	}
	worker.SetStickyWorkflowCacheSize(cfg.CacheSize)
	acts := &activities.PolicyActivities{Identity: cfg.Identity, PolicyFile: cfg.PolicyFile, Signer: signer}
	return &role{identity: cfg.Identity, queue: api.QueueOrchestrator, workflows: true, register: func(r worker.Registry) {
		r.RegisterWorkflow(workflows.Release)
		r.RegisterActivity(acts)
	}}, nil
}

func buildRole(ctx context.Context, e roleEnv) (*role, error) {
	cfg, err := config.Load[config.Build](ctx, config.RoleBuild, e.lookup)
	if err != nil {
		return nil, err
	}
	signer, err := loadSigner(config.RoleBuild, cfg.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	// The build role takes each service's repository from its own policy,
	// and runs git for the services that have one.
	p, err := loadKeyedPolicy(cfg.PolicyFile)
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("git"); err != nil && len(p.Services) > 0 {
		return nil, fmt.Errorf("the policy names repositories, but git is not installed (Debian: apt-get install git): %w", err)
	}
	acts := &activities.BuildActivities{Identity: cfg.Identity, ArtifactDir: cfg.ArtifactDir,
		StateDir: cfg.StateDir, PolicyFile: cfg.PolicyFile, GitTimeout: cfg.GitTimeout,
		Command: cfg.Command, Timeout: cfg.Timeout, RegistryToken: cfg.RegistryToken, Signer: signer}
	return activityRole(cfg.Identity, api.QueueBuild, acts), nil
}

func reviewRole(ctx context.Context, e roleEnv) (*role, error) {
	cfg, err := config.Load[config.Review](ctx, config.RoleReview, e.lookup)
	if err != nil {
		return nil, err
	}
	signer, err := loadSigner(config.RoleReview, cfg.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	acts := &activities.ReviewActivities{Identity: cfg.Identity, ArtifactDir: cfg.ArtifactDir,
		Command: cfg.Command, Timeout: cfg.Timeout, ScannerToken: cfg.ScannerToken, Signer: signer}
	return activityRole(cfg.Identity, api.QueueReview, acts), nil
}

func deployRole(ctx context.Context, e roleEnv) (*role, error) {
	cfg, err := config.Load[config.Deploy](ctx, config.RoleDeploy, e.lookup)
	if err != nil {
		return nil, err
	}
	signer, err := loadSigner(config.RoleDeploy, cfg.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	// The deploy role judges every deploy by its own policy: it must load
	// and list every role's key now, not at the first deploy.
	if _, err := loadKeyedPolicy(cfg.PolicyFile); err != nil {
		return nil, err
	}
	acts := &activities.DeployActivities{Identity: cfg.Identity, ArtifactDir: cfg.ArtifactDir,
		StateDir: cfg.StateDir, Command: cfg.Command, VerifyCommand: cfg.VerifyCommand,
		RollbackCommand: cfg.RollbackCommand, Timeout: cfg.Timeout, Credentials: cfg.Credentials,
		PolicyFile: cfg.PolicyFile, Signer: signer}
	dc, err := e.temporal.DataConverter()
	if err != nil {
		return nil, err
	}
	acts.Caller = activities.ServerCallerWith(dc)
	return activityRole(cfg.Identity, api.QueueDeploy, acts), nil
}

// approvalRole prompts on the console (and in Slack with a bot token) and
// serves the decision gateway with the policy loaded at start, taking Slack
// clicks over HTTP (signing secret) and/or Socket Mode (app token).
func approvalRole(ctx context.Context, e roleEnv) (*role, error) {
	cfg, err := config.Load[config.Approval](ctx, config.RoleApproval, e.lookup)
	if err != nil {
		return nil, err
	}
	signer, err := loadSigner(config.RoleApproval, cfg.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	pol, err := loadPolicy(cfg.PolicyFile)
	if err != nil {
		return nil, err
	}
	polHash, err := fileHash(cfg.PolicyFile) // emergency declarations are bound to it
	if err != nil {
		return nil, err
	}
	bindings := &gateway.Bindings{}
	notifier := activities.Notifiers{approvalNotifier(cfg, e, pol), promptedBindings{bindings}}
	// dc reads the release's trace from its memo and a gate's prompt from
	// the release's history (payloads as the server keeps them, encrypted)
	dc, err := e.temporal.DataConverter()
	if err != nil {
		return nil, err
	}
	r := activityRole(cfg.Identity, api.QueueApproval, &activities.ApprovalActivities{Identity: cfg.Identity,
		Notifier: notifier, Prompts: activities.ServerPromptsWith(dc)})
	gw := &sharedGateway{opts: gateway.Options{Policy: pol, PolicyHash: polHash, Slack: gatewaySlack(cfg), Signer: signer,
		RateLimit: &gateway.RateLimit{PerSecond: cfg.RatePerSecond, Burst: cfg.RateBurst}, Bindings: bindings,
		PageURL: pageURL(cfg), PageSecret: []byte(cfg.PageSecret), DataConverter: dc}}
	r.listen = cfg.Listen
	r.handler = func(c client.Client, log *slog.Logger) http.Handler { return gw.get(c, log).Handler() }
	r.background = socketMode(cfg, gw)
	return r, nil
}

// pageURL is the approval page's base URL ("" when turned off).
func pageURL(cfg *config.Approval) string {
	if cfg.PageURL == "off" {
		return ""
	}
	return cfg.PageURL
}

func activityRole(identity, queue string, acts any) *role {
	return &role{identity: identity, queue: queue, register: func(r worker.Registry) { r.RegisterActivity(acts) }}
}

// fileHash is the policy hash of the file at path, as releases pin it.
func fileHash(path string) (string, error) {
	_, hash, err := policy.Load(path)
	return hash, err
}

func loadPolicy(path string) (*policy.Policy, error) {
	p, _, err := policy.Load(path)
	if err != nil {
		return nil, fmt.Errorf("bad policy: %w", err)
	}
	return p, nil
}

// loadKeyedPolicy loads a policy that verifies attestations: it must list
// every signing role's key (error: "FILE: keys.ROLE: is required ...").
func loadKeyedPolicy(path string) (*policy.Policy, error) {
	p, err := loadPolicy(path)
	if err != nil {
		return nil, err
	}
	if err := p.RequireKeys(path); err != nil {
		return nil, fmt.Errorf("bad policy: %w", err)
	}
	return p, nil
}

// loadSigner reads the role's signing key; the error names the variable and
// the file, never the key.
func loadSigner(role, path string) (*attest.Signer, error) {
	s, err := attest.LoadSigner(role, path)
	if err != nil {
		return nil, fmt.Errorf("%sSIGNING_KEY_FILE=%s: %w", config.Prefix(role), path, err)
	}
	return s, nil
}
