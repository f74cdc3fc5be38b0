// Package config reads each role's configuration from the environment
// (go-envconfig, one FOUREYES_<ROLE>_ prefix per role), refuses to start a
// role that holds another role's secret, and builds the Temporal client
// options and slog logger shared by every process.
//
// An empty variable counts as unset everywhere: it takes the default, fails
// "required", and is not a held secret. Fields tagged secret:"true" are the
// role's secrets; SecretVars and CheckSecrets are derived from those tags.
// Each role's SIGNING_KEY_FILE is one: whoever can read a role's key can
// speak for that role, so no role may even be told where another's key is.
package config

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/foureyes/foureyes/formats/authzconfig"
	"github.com/sethvargo/go-envconfig"
)

// The worker roles: the names the server's authorization config gives
// them (one list, in formats/authzconfig).
const (
	RoleOrchestrator = authzconfig.RoleOrchestrator
	RoleBuild        = authzconfig.RoleBuild
	RoleReview       = authzconfig.RoleReview
	RoleApproval     = authzconfig.RoleApproval
	RoleDeploy       = authzconfig.RoleDeploy
)

// Roles lists every role, orchestrator first.
var Roles = authzconfig.WorkerRoles

// Orchestrator is the orchestrator's configuration (FOUREYES_ORCHESTRATOR_*).
// Its only secret is its signing key, which seals audit chains.
type Orchestrator struct {
	Identity       string `env:"IDENTITY"`
	PolicyFile     string `env:"POLICY_FILE, required"`
	SigningKeyFile string `env:"SIGNING_KEY_FILE, required" secret:"true"`
	// CacheSize is how many releases the worker keeps in memory (the SDK's
	// sticky cache, about 90 KB each); others are replayed from their history
	// when they next move. 2000 keeps 10,000 open releases under 300 MB
	// (docs/benchmarks.md, issue 15).
	CacheSize int `env:"CACHE_SIZE, default=2000"`
}

// Build is the build role's configuration (FOUREYES_BUILD_*).
type Build struct {
	Identity      string        `env:"IDENTITY"`
	ArtifactDir   string        `env:"ARTIFACT_DIR, required"`
	Command       string        `env:"COMMAND"`
	Timeout       time.Duration `env:"TIMEOUT, default=10m"`
	RegistryToken string        `env:"REGISTRY_TOKEN" secret:"true"`
	// PolicyFile is the build role's own copy of the policy: the repository
	// and build command of each service come from it, never from a task.
	PolicyFile string `env:"POLICY_FILE, required"`
	// StateDir holds a bare mirror per repository and the worktrees builds
	// run in (default: ARTIFACT_DIR/.build).
	StateDir   string        `env:"STATE_DIR"`
	GitTimeout time.Duration `env:"GIT_TIMEOUT, default=5m"`
	// SigningKeyFile holds the key that signs build provenance.
	SigningKeyFile string `env:"SIGNING_KEY_FILE, required" secret:"true"`
}

// Review is the review role's configuration (FOUREYES_REVIEW_*).
type Review struct {
	Identity     string        `env:"IDENTITY"`
	ArtifactDir  string        `env:"ARTIFACT_DIR, required"`
	Command      string        `env:"COMMAND"`
	Timeout      time.Duration `env:"TIMEOUT, default=10m"`
	ScannerToken string        `env:"SCANNER_TOKEN" secret:"true"`
	// SigningKeyFile holds the key that signs review verdicts.
	SigningKeyFile string `env:"SIGNING_KEY_FILE, required" secret:"true"`
}

// Approval is the approval role's configuration (FOUREYES_APPROVAL_*).
type Approval struct {
	Identity           string `env:"IDENTITY"`
	PolicyFile         string `env:"POLICY_FILE, required"`
	Listen             string `env:"LISTEN, default=127.0.0.1:8480"`
	UIURL              string `env:"UI_URL, default=http://localhost:8233"`
	SlackBotToken      string `env:"SLACK_BOT_TOKEN" secret:"true"`
	SlackSigningSecret string `env:"SLACK_SIGNING_SECRET" secret:"true"`
	SlackAppToken      string `env:"SLACK_APP_TOKEN" secret:"true"`
	SlackTeamID        string `env:"SLACK_TEAM_ID"`
	// SlackAPIURL points slack-go at another Web API (tests: a slacktest server).
	SlackAPIURL string `env:"SLACK_API_URL"`
	// SigningKeyFile holds the key that signs the decisions and cancels the
	// gateway authenticated.
	SigningKeyFile string `env:"SIGNING_KEY_FILE, required" secret:"true"`
	// RatePerSecond and RateBurst limit the requests of one identity at the
	// gateway (429 with Retry-After beyond them); a rate of 0 turns it off.
	RatePerSecond float64 `env:"RATE_PER_SECOND, default=5"`
	RateBurst     int     `env:"RATE_BURST, default=20"`
	// PageURL is the approval page's base URL as people's browsers reach
	// the gateway (https://HOST, http only for localhost); its host name is
	// the passkeys' relying party id. Default: http://localhost at LISTEN's
	// port. "off" serves no page.
	PageURL string `env:"PAGE_URL"`
	// PageSecret keys the page links' HMAC (links in Slack replies and
	// from `starter page`); unset, a random key per start: links die with
	// the process.
	PageSecret string `env:"PAGE_SECRET" secret:"true"`
}

// Deploy is the deploy role's configuration (FOUREYES_DEPLOY_*).
type Deploy struct {
	Identity        string        `env:"IDENTITY"`
	ArtifactDir     string        `env:"ARTIFACT_DIR, required"`
	StateDir        string        `env:"STATE_DIR, required"`
	Command         string        `env:"COMMAND"`
	VerifyCommand   string        `env:"VERIFY_COMMAND"`
	RollbackCommand string        `env:"ROLLBACK_COMMAND"`
	Timeout         time.Duration `env:"TIMEOUT, default=10m"`
	Credentials     string        `env:"CREDENTIALS" secret:"true"`
	// PolicyFile is the deploy role's own copy of the policy: it checks
	// every deploy's signed bundle against it, whatever the workflow says.
	PolicyFile string `env:"POLICY_FILE, required"`
	// SigningKeyFile holds the key that signs deploy, verify and rollback receipts.
	SigningKeyFile string `env:"SIGNING_KEY_FILE, required" secret:"true"`
}

// roleTypes maps each role to its configuration struct.
var roleTypes = map[string]reflect.Type{
	RoleOrchestrator: reflect.TypeFor[Orchestrator](),
	RoleBuild:        reflect.TypeFor[Build](),
	RoleReview:       reflect.TypeFor[Review](),
	RoleApproval:     reflect.TypeFor[Approval](),
	RoleDeploy:       reflect.TypeFor[Deploy](),
}

// Prefix returns the role's variable prefix, e.g. "FOUREYES_BUILD_".
func Prefix(role string) string {
	return "FOUREYES_" + strings.ToUpper(role) + "_"
}

// SecretVars returns the full names of the role's secret variables (none for
// an unknown role).
func SecretVars(role string) []string {
	t, ok := roleTypes[role]
	if !ok {
		return nil
	}
	var vars []string
	for _, f := range reflect.VisibleFields(t) {
		if f.Tag.Get("secret") == "true" {
			vars = append(vars, Prefix(role)+envKey(f))
		}
	}
	return vars
}

// CheckSecrets returns an error naming every other role's secret variable
// that is set (non-empty) in l, signing key files included.
func CheckSecrets(role string, l envconfig.Lookuper) error {
	if err := checkRole(role); err != nil {
		return err
	}
	if l == nil {
		return envconfig.ErrLookuperNil
	}
	var found []string
	for _, other := range Roles {
		if other == role {
			continue
		}
		for _, v := range SecretVars(other) {
			if val, ok := l.Lookup(v); ok && val != "" {
				found = append(found, fmt.Sprintf("%s (a secret of role %s)", v, other))
			}
		}
	}
	switch len(found) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("role %s refuses to start: %s is set in its environment", role, found[0])
	default:
		return fmt.Errorf("role %s refuses to start: %s are set in its environment", role, strings.Join(found, ", "))
	}
}

// Load checks the role's secrets (CheckSecrets), decodes T from the role's
// prefixed variables, validates it and fills in the default identity. T must
// be the role's struct (Load[Build] for RoleBuild…). Errors name the variable.
func Load[T any](ctx context.Context, role string, l envconfig.Lookuper) (*T, error) {
	if err := checkRole(role); err != nil {
		return nil, err
	}
	if want := roleTypes[role]; reflect.TypeFor[T]() != want {
		return nil, fmt.Errorf("config: role %s loads %v, not %v", role, want, reflect.TypeFor[T]())
	}
	if err := CheckSecrets(role, l); err != nil {
		return nil, err
	}
	cfg := new(T)
	if err := decode(ctx, cfg, Prefix(role), l); err != nil {
		return nil, err
	}
	if err := any(cfg).(finisher).finish(role); err != nil {
		return nil, err
	}
	return cfg, nil
}

func checkRole(role string) error {
	if _, ok := roleTypes[role]; !ok {
		return fmt.Errorf("config: unknown role %q (want one of %s)", role, strings.Join(Roles, ", "))
	}
	return nil
}

// decode runs envconfig over target with prefix, treating empty values as
// unset, and rewrites errors to name the variable.
func decode(ctx context.Context, target any, prefix string, l envconfig.Lookuper) error {
	if l == nil {
		return envconfig.ErrLookuperNil
	}
	var lk envconfig.Lookuper = envconfig.LookuperFunc(func(key string) (string, bool) {
		v, ok := l.Lookup(key)
		return v, ok && v != ""
	})
	if prefix != "" {
		lk = envconfig.PrefixLookuper(prefix, lk)
	}
	err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: target, Lookuper: lk})
	if err == nil {
		return nil
	}
	return nameVar(err, reflect.TypeOf(target).Elem(), prefix)
}

// nameVar turns envconfig's "Field: cause" into "VARIABLE: cause".
func nameVar(err error, t reflect.Type, prefix string) error {
	cause := errors.Unwrap(err)
	if cause == nil {
		return err
	}
	field, ok := strings.CutSuffix(err.Error(), ": "+cause.Error())
	f, found := t.FieldByName(field)
	if !ok || !found {
		return err
	}
	name := prefix + envKey(f)
	if errors.Is(cause, envconfig.ErrMissingRequired) {
		return fmt.Errorf("%s: %w", name, envconfig.ErrMissingRequired)
	}
	return fmt.Errorf("%s: %w", name, cause)
}

// envKey is the variable name (without prefix) in f's env tag.
func envKey(f reflect.StructField) string {
	key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
	return strings.TrimSpace(key)
}
