package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/internal/procstat"
	"github.com/foureyes/foureyes/internal/stacktest"
)

// rig is everything one bench run starts: the stack (server, the five
// foureyes roles, the admin's client), the five floor roles and the prompt
// watchers.
type rig struct {
	*stacktest.Stack
	cfg      config
	floor    map[string]*devstack.Process
	http     *http.Client
	prompts  *watcher  // approval role's console prompts
	fprompts *watcher  // floor approval role's prompts
	slack    *slackAPI // Slack Web API stand-in
}

// startRig builds the binaries and starts everything on free ports in a
// temporary folder (removed by close unless -keep); prod releases go
// straight to prod. On error, what was started is stopped.
func startRig(ctx context.Context, cfg config, log io.Writer) (r *rig, err error) {
	r = &rig{cfg: cfg, http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if r.slack, err = startSlackAPI(); err != nil {
		return r, err
	}
	// The bench starts releases and its floor's workflows, reads histories
	// and queries with the stack's client: the admin's key (each admin call
	// is logged by the server).
	r.Stack, err = stacktest.Start(ctx, stacktest.Options{TempPrefix: "foureyes-bench-", Keep: cfg.keep,
		BasePolicy: stacktest.WithoutPromotion, Extra: cfg.extra(r.slack.url), Tuning: cfg.tuning(),
		Cluster: cfg.cluster, Server: cfg.server, Log: log, Untraced: !cfg.tracing})
	if err != nil {
		return r, err
	}
	r.HTTP = r.http // the bench's pool of connections to the gateway
	return r, r.startFloorAndWatch(ctx)
}

// startFloorAndWatch starts the floor roles, then follows both approval
// roles' output for prompts.
func (r *rig) startFloorAndWatch(ctx context.Context) error {
	if err := r.startFloor(ctx); err != nil {
		return err
	}
	r.prompts = watch(r.Local.Roles["approval"].LogFile, parseConsolePrompt())
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
	roleEnv, err := r.Local.RoleEnv("orchestrator")
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
		env := append(r.Local.ClientEnv(devstack.IdentityAdmin), "TEMPORAL_GRPC_COMPRESSION="+compression)
		p, err := devstack.StartRole(ctx, exe, devstack.Role{Name: floorRolePrefix + role, Env: env}, r.Local.LogDir())
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
	for name, p := range r.Local.Roles {
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
	if err := r.Local.Check(); err != nil {
		return err
	}
	for _, p := range r.floor {
		if p.Exited() {
			return fmt.Errorf("%s exited: %v\n%s", p.Name, p.Err(), p.LogTail(1000))
		}
	}
	return nil
}

// close stops every process and removes the temporary folders.
func (r *rig) close() {
	for _, w := range []*watcher{r.prompts, r.fprompts} {
		if w != nil {
			w.stop()
		}
	}
	for _, p := range r.floor {
		_ = p.Stop()
	}
	if r.Stack != nil {
		r.Stop()
	}
	if r.slack != nil {
		r.slack.close()
	}
}

// payloadConverter decodes payloads as the stack's clients encode them:
// with the dev server's payload key, or on the cluster with the cluster's
// (its own folder, data/cluster/payload-keys). With the dev server's key on
// the cluster no prompt's input decoded, and -cluster failed with "no
// started activity after the gate".
func (r *rig) payloadConverter() (converter.DataConverter, error) {
	if c := r.Local.Cluster; c != nil {
		return c.Temporal(devstack.IdentityAdmin).DataConverter()
	}
	return r.Local.Credentials().Temporal("", "").DataConverter()
}
