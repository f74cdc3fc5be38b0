package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/devstack"
	"github.com/foureyes/foureyes/internal/procstat"
)

// rig is everything one bench run starts: the server, the five foureyes
// roles, the five floor roles, a client and the prompt watchers.
type rig struct {
	cfg      config
	dir      string // temporary; removed by close unless -keep
	local    *devstack.Local
	floor    map[string]*devstack.Process
	client   client.Client
	http     *http.Client
	tokens   map[string]string // identity -> demo API token
	prompts  *watcher          // approval role's console prompts
	fprompts *watcher          // floor approval role's prompts
	slack    *slackAPI         // Slack Web API stand-in
	pgDir    string            // -cluster: PostgreSQL's data, removed by close
}

// startRig builds the binaries and starts everything on free ports in a
// temporary folder. On error, what was started is stopped.
func startRig(ctx context.Context, cfg config, log io.Writer) (r *rig, err error) {
	r = &rig{cfg: cfg, http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if err = r.prepare(log); err != nil {
		return r, err
	}
	if r.cfg.cluster {
		err = r.startCluster(ctx)
	} else {
		err = r.local.StartServer(ctx, r.cfg.server)
	}
	if err != nil {
		return r, err
	}
	if err = r.startRoles(ctx); err != nil {
		return r, err
	}
	// The bench starts releases and its floor's workflows, reads histories
	// and queries: the admin's key (each admin call is logged by the server).
	r.client, err = r.local.Dial(ctx, devstack.IdentityAdmin)
	return r, err
}

func (r *rig) prepare(log io.Writer) error {
	dir, err := os.MkdirTemp("", "foureyes-bench-")
	if err != nil {
		return err
	}
	r.dir = dir
	fmt.Fprintf(log, "bench: building binaries into %s\n", dir)
	bin := filepath.Join(dir, "bin")
	if err := devstack.BuildBinaries(r.cfg.root, bin, log); err != nil {
		return err
	}
	port, err := devstack.FreePort()
	if err != nil {
		return err
	}
	if r.slack, err = startSlackAPI(); err != nil {
		return err
	}
	base, err := devstack.WritePolicyWithoutPromotion(r.cfg.root, dir) // prod releases go straight to prod here
	if err != nil {
		return err
	}
	r.local = &devstack.Local{Root: r.cfg.root, DataDir: filepath.Join(dir, "data"), BinDir: bin,
		GatewayPort: port, Extra: r.cfg.extra(r.slack.url), Tuning: r.cfg.tuning(), BasePolicy: base}
	if r.tokens, err = demoTokens(r.cfg.root); err != nil {
		return err
	}
	return r.local.MakeDirs()
}

// startRoles starts the foureyes roles, then the floor roles, then follows
// both approval roles' output for prompts.
func (r *rig) startRoles(ctx context.Context) error {
	if err := r.local.StartRoles(ctx); err != nil {
		return err
	}
	if err := r.local.WaitGateway(ctx, time.Minute); err != nil {
		return err
	}
	if err := r.startFloor(ctx); err != nil {
		return err
	}
	r.prompts = watch(r.local.Roles["approval"].LogFile, parseConsolePrompt())
	r.fprompts = watch(r.floor["approval"].LogFile, parseFloorPrompt)
	return nil
}

// startFloor starts the floor roles as processes of this binary, with the
// gRPC transport the foureyes roles use.
func (r *rig) startFloor(ctx context.Context) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	roleEnv, err := r.local.RoleEnv("orchestrator")
	if err != nil {
		return err
	}
	compression, ok := devstack.LookupEnv(roleEnv, "TEMPORAL_GRPC_COMPRESSION")
	if !ok {
		compression = "gzip"
	}
	r.floor = map[string]*devstack.Process{}
	for _, role := range floorRoles {
		// The floor's own queues are no foureyes role's: it calls as the admin,
		// over the same TLS connection with an API key as the roles.
		env := append(r.local.ClientEnv(devstack.IdentityAdmin), "TEMPORAL_GRPC_COMPRESSION="+compression)
		p, err := devstack.StartRole(ctx, exe, devstack.Role{Name: floorRolePrefix + role, Env: env}, r.local.LogDir())
		if err != nil {
			return err
		}
		r.floor[role] = p
	}
	return nil
}

// cpu is the CPU seconds used so far by the server, the foureyes roles and
// the floor roles.
func (r *rig) cpu() map[string]float64 {
	m := map[string]float64{"server": r.serverCPU()}
	for name, p := range r.local.Roles {
		m["foureyes"] += procstat.CPUSeconds(p.Pid())
		m[name] = procstat.CPUSeconds(p.Pid())
	}
	for _, p := range r.floor {
		m["floor"] += procstat.CPUSeconds(p.Pid())
	}
	return m
}

// check fails when a process of the rig has exited.
func (r *rig) check() error {
	if err := r.local.Check(); err != nil {
		return err
	}
	for _, p := range r.floor {
		if p.Exited() {
			return fmt.Errorf("%s exited: %v\n%s", p.Name, p.Err(), p.LogTail(1000))
		}
	}
	return nil
}

// close stops every process and removes the temporary folder.
func (r *rig) close() {
	for _, w := range []*watcher{r.prompts, r.fprompts} {
		if w != nil {
			w.stop()
		}
	}
	if r.client != nil {
		r.client.Close()
	}
	for _, p := range r.floor {
		_ = p.Stop()
	}
	if r.local != nil {
		r.local.Stop()
	}
	if r.slack != nil {
		r.slack.close()
	}
	if r.dir != "" && !r.cfg.keep {
		_ = os.RemoveAll(r.dir)
	}
	if r.pgDir != "" && !r.cfg.keep {
		_ = os.RemoveAll(r.pgDir)
	}
}

// demoTokens maps identities to the tokens of deploy/demo-tokens.env.
func demoTokens(root string) (map[string]string, error) {
	env, err := devstack.ReadEnvFile(filepath.Join(root, "deploy", "demo-tokens.env"))
	if err != nil {
		return nil, err
	}
	tokens := map[string]string{}
	for _, id := range []string{"ci-bot", "erin", "bob", "rita"} {
		key := "FOUREYES_DEMO_TOKEN_" + strings.ToUpper(strings.ReplaceAll(id, "-", "_"))
		v, ok := devstack.LookupEnv(env, key)
		if !ok {
			return nil, fmt.Errorf("deploy/demo-tokens.env: no %s", key)
		}
		tokens[id] = v
	}
	return tokens, nil
}
