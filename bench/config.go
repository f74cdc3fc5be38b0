package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/foureyes/foureyes/internal/devstack"
)

// config is the bench's flags.
type config struct {
	root, server   string
	releases       int           // latency and throughput releases per system
	rounds         int           // throughput rounds per system
	open           int           // releases held open at a gate in the scale phase
	startConc      int           // concurrent starts in the scale phase
	scaleDecisions int           // decisions on random open releases
	slack          int           // signed Slack interactions
	gap            time.Duration // between decisions when measuring latency
	timeout        time.Duration
	phases         map[string]bool
	keep           bool
	profile        string // folder for pprof profiles of the orchestrator; "" = none
	bare           bool   // server without the stack's default tuning
	tracing        bool   // the roles trace (devstack.Local.Untraced otherwise)
	cache          int    // FOUREYES_ORCHESTRATOR_CACHE_SIZE; 0 = the role's default
	compression    string // TEMPORAL_GRPC_COMPRESSION of every role; "" = the stack's
	floorUpserts   bool   // the floor upserts a search attribute as often as a release
	pragmas, dyn   list
	pprof          map[string]string // role -> pprof listen address, with -profile
	cluster        bool              // the server as stack cluster runs it (PostgreSQL, four services, mTLS)
	serverMetrics  string            // with -server-metrics, the file prefix for the server's /metrics after each phase
	metricsPort    int               // its port
}

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string, log io.Writer) (config, error) {
	root, err := devstack.RepoRoot()
	if err != nil {
		fmt.Fprintf(log, "bench: %v\n", err)
		return config{}, err
	}
	c := config{root: root}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(log)
	ph := c.flags(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.profile != "" {
		if c.pprof, err = pprofPorts(); err != nil {
			return c, err
		}
	}
	if c.serverMetrics != "" {
		if c.metricsPort, err = devstack.FreePort(); err != nil {
			return c, err
		}
	}
	c.phases, err = parsePhases(*ph)
	if err != nil {
		fmt.Fprintf(log, "bench: -phases: %v\n", err)
	}
	return c, err
}

// flags defines the counts and durations, then the settings; it returns
// the -phases value.
func (c *config) flags(fs *flag.FlagSet) *string {
	fs.IntVar(&c.releases, "releases", 200, "releases per system for latency (2 decisions each) and throughput")
	fs.IntVar(&c.rounds, "rounds", 2, "throughput rounds per system (floor and foureyes alternate)")
	fs.IntVar(&c.open, "open", 2000, "releases held open at the review gate at once (scale phase)")
	fs.IntVar(&c.startConc, "start-concurrency", 32, "concurrent starts in the scale phase")
	fs.IntVar(&c.scaleDecisions, "scale-decisions", 100, "decisions on random releases while all are open")
	fs.IntVar(&c.slack, "slack", 200, "signed Slack interactions to time")
	fs.DurationVar(&c.gap, "gap", 100*time.Millisecond, "pause between timed decisions")
	fs.DurationVar(&c.timeout, "timeout", 60*time.Minute, "stop everything after this long")
	c.settingFlags(fs)
	return fs.String("phases", strings.Join(defaultPhases(), ","), "phases to run (restart: only when named)")
}

func (c *config) settingFlags(fs *flag.FlagSet) {
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary folder (logs, SQLite file)")
	fs.BoolVar(&c.cluster, "cluster", false, "run on the cluster (PostgreSQL, frontend, history, matching, worker, mTLS) instead of the dev server")
	fs.StringVar(&c.serverMetrics, "server-metrics", "", "write the Temporal server's Prometheus metrics after each phase to PREFIX-PHASE.prom (dev server only)")
	fs.StringVar(&c.profile, "profile", "", "write CPU and heap profiles of the orchestrator, the approval role and the Temporal server to this folder")
	fs.BoolVar(&c.tracing, "tracing", false, "trace every role and the gateway as the stack does (spans to the stack's data/traces/); off by default, as in the earlier runs of docs/benchmarks.md")
	fs.BoolVar(&c.bare, "bare", false, "run the server without the stack's default tuning (devstack.DefaultTuning)")
	fs.IntVar(&c.cache, "orchestrator-cache", 0, "FOUREYES_ORCHESTRATOR_CACHE_SIZE for the orchestrator (0: its default)")
	fs.StringVar(&c.compression, "grpc-compression", "", "TEMPORAL_GRPC_COMPRESSION (gzip or none) of every role, floor too (default: the stack's)")
	fs.BoolVar(&c.floorUpserts, "floor-upserts", false, "the floor also upserts a search attribute in the six workflow tasks where a release does")
	fs.Var(&c.pragmas, "sqlite-pragma", "extra server SQLite pragma PRAGMA=VALUE (repeatable)")
	fs.Var(&c.dyn, "dynamic-config", "extra server dynamic config KEY=JSON (repeatable)")
}

func parsePhases(s string) (map[string]bool, error) {
	m := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !contains(phaseNames(), p) {
			return nil, fmt.Errorf("unknown phase %q (want %s)", p, strings.Join(phaseNames(), ", "))
		}
		m[p] = true
	}
	return m, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// tuning is the server's tuning: the stack's default unless -bare, plus
// the extra flags.
func (c config) tuning() *devstack.Tuning {
	t := devstack.DefaultTuning
	if c.bare {
		t = devstack.Tuning{}
	}
	t.SQLitePragmas = append(append([]string{}, t.SQLitePragmas...), c.pragmas...)
	t.DynamicConfig = append(append([]string{}, t.DynamicConfig...), c.dyn...)
	if c.profile != "" {
		t.PprofListen = c.pprof["server"]
	}
	t.MetricsPort = c.metricsPort
	return &t
}

// extra is the role settings the bench adds: Slack (a test signing secret,
// workspace and bot token, the Web API stand-in at slackURL), no
// per-identity rate limit and, with
// -profile, the pprof endpoints.
func (c config) extra(slackURL string) map[string][]string {
	e := map[string][]string{"approval": {"FOUREYES_APPROVAL_SLACK_SIGNING_SECRET=" + slackSecret,
		"FOUREYES_APPROVAL_SLACK_TEAM_ID=" + slackTeam, "FOUREYES_APPROVAL_SLACK_BOT_TOKEN=xoxb-bench-not-a-real-token",
		"FOUREYES_APPROVAL_SLACK_API_URL=" + slackURL,
		// the bench's few identities decide for hundreds of releases a second:
		// the per-identity limit (5/s) would measure itself, not the release
		"FOUREYES_APPROVAL_RATE_PER_SECOND=0"}}
	for _, role := range floorRoles {
		if c.compression != "" {
			e[role] = append(e[role], "TEMPORAL_GRPC_COMPRESSION="+c.compression)
		}
	}
	if c.cache > 0 {
		e["orchestrator"] = append(e["orchestrator"], fmt.Sprintf("FOUREYES_ORCHESTRATOR_CACHE_SIZE=%d", c.cache))
	}
	if c.profile != "" {
		for _, role := range profiledRoles {
			e[role] = append(e[role], "FOUREYES_PPROF_LISTEN="+c.pprof[role])
		}
	}
	return e
}
