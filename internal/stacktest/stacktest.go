// Package stacktest runs foureyes as users run it for the suites that test
// a running stack (integration, faults, bench): foureyes' Temporal server
// (the dev server or the cluster on PostgreSQL) and each role as its own
// OS process, plus the calls the suites make of it (decisions through the
// gateway, status and audit queries). It returns errors rather than
// taking a testing.T, so that the bench, which is no test, shares it.
package stacktest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/foureyes/foureyes/attest"
	"github.com/foureyes/foureyes/internal/demotokens"
	"github.com/foureyes/foureyes/internal/devstack"
	"github.com/foureyes/foureyes/policy"
)

// Options says which stack to start; the zero value is the dev server
// with deployments/policy.yaml in a new temporary folder.
type Options struct {
	// TempPrefix names the temporary folder (os.MkdirTemp's pattern).
	TempPrefix string
	// Keep leaves the folder (logs, data) in place when the stack stops.
	Keep bool
	// BasePolicy writes the policy the stack's is composed from into the
	// stack's folder (s.Dir) and returns its path; nil means
	// deployments/policy.yaml.
	BasePolicy func(s *Stack) (string, error)
	// Prepare runs once the data folders, the demo repositories and the
	// keys exist, before the server starts: e.g. commits to release, or
	// role settings (s.Local.Extra) that name them.
	Prepare func(s *Stack) error
	Extra   map[string][]string // more KEY=VALUE settings per role
	Tuning  *devstack.Tuning    // nil: devstack.DefaultTuning
	// Cluster runs the server as `stack cluster` does: PostgreSQL, four
	// Temporal services with internode mTLS, clients by certificate.
	Cluster bool
	// Untraced: no process traces (devstack.Local.Untraced); by default
	// each writes its spans to the stack's data/traces/.
	Untraced bool
	// Server is foureyes' Temporal server binary; "" builds it if needed
	// (devstack.EnsureTemporalServer).
	Server string
	Log    io.Writer // the builds' output; nil discards it
}

// Stack is one running stack.
type Stack struct {
	Root   string
	Dir    string // the stack's temporary folder
	Local  *devstack.Local
	Server string        // foureyes' Temporal server binary
	Client client.Client // the admin's: suites play rogue clients the server would stop
	Tokens map[string]string
	Ring   attest.KeyRing // the public keys of the stack's composed policy
	HTTP   *http.Client   // the gateway's client; nil: http.DefaultClient
	pgDir  string         // the cluster's PostgreSQL data (its user must reach it)
	keep   bool
}

// Start builds the binaries and starts the server and the roles on free
// ports. On error it returns what it started (nil if nothing) for the
// caller to Stop; the error names the folder of the logs.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	s, err := newStack(opts)
	if err != nil {
		return nil, err
	}
	if err := s.prepare(opts); err != nil {
		return s, err
	}
	if err := s.boot(ctx, opts.Cluster); err != nil {
		return s, fmt.Errorf("%w (logs in %s)", err, s.Local.LogDir())
	}
	return s, nil
}

// newStack makes the folder and finds the server and the demo tokens.
func newStack(opts Options) (*Stack, error) {
	root, err := devstack.RepoRoot()
	if err != nil {
		return nil, err
	}
	s := &Stack{Root: root, Server: opts.Server, keep: opts.Keep}
	if s.Tokens, err = demotokens.Read(root); err != nil {
		return nil, err
	}
	if s.Server == "" {
		if s.Server, err = devstack.EnsureTemporalServer(root, io.Discard); err != nil {
			return nil, fmt.Errorf("foureyes' Temporal server is needed (go run ./stack test builds it): %w", err)
		}
	}
	if s.Dir, err = os.MkdirTemp("", opts.TempPrefix); err != nil {
		return nil, err
	}
	return s, nil
}

// prepare builds the binaries, writes the policy, keys and repositories
// and reads the keys back as an auditor would.
func (s *Stack) prepare(opts Options) error {
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	bin := filepath.Join(s.Dir, "bin")
	fmt.Fprintf(log, "building binaries into %s\n", bin)
	if err := devstack.BuildBinaries(s.Root, bin, log); err != nil {
		return err
	}
	base := ""
	if opts.BasePolicy != nil {
		var err error
		if base, err = opts.BasePolicy(s); err != nil {
			return err
		}
	}
	s.Local = &devstack.Local{Root: s.Root, DataDir: filepath.Join(s.Dir, "data"), BinDir: bin,
		BasePolicy: base, Extra: opts.Extra, Tuning: opts.Tuning, Untraced: opts.Untraced}
	if err := s.Local.MakeDirs(); err != nil {
		return err
	}
	if err := s.readKeys(); err != nil {
		return err
	}
	if opts.Prepare != nil {
		return opts.Prepare(s)
	}
	return nil
}

// readKeys reads the public keys the stack composed into its policy: the
// keys an auditor checks an exported trail with.
func (s *Stack) readKeys() error {
	p, _, err := policy.Load(s.Local.PolicyFile())
	if err != nil {
		return err
	}
	if err := p.RequireKeys(s.Local.PolicyFile()); err != nil {
		return fmt.Errorf("the stack lists every signing role's key: %w", err)
	}
	s.Ring, err = p.KeyRing()
	return err
}

// WithoutPromotion is a BasePolicy: deployments/policy.yaml without its
// promotion and emergency rules, so that prod releases go straight to prod.
func WithoutPromotion(s *Stack) (string, error) {
	return devstack.WritePolicyWithoutPromotion(s.Root, s.Dir)
}

// boot starts the server on free ports, then the roles, waits for the
// gateway and dials the admin's client.
func (s *Stack) boot(ctx context.Context, cluster bool) error {
	var err error
	if s.Local.GatewayPort, err = devstack.FreePort(); err != nil {
		return err
	}
	if cluster {
		err = s.startCluster(ctx)
	} else if s.Local.Port, err = devstack.FreePort(); err == nil {
		err = s.Local.StartServer(ctx, s.Server)
	}
	if err != nil {
		return err
	}
	return s.StartRoles(ctx)
}

// startCluster runs PostgreSQL (its data in a folder of its own under
// /tmp, which its user must reach), the schema job and the four services.
func (s *Stack) startCluster(ctx context.Context) error {
	pg, err := os.MkdirTemp("", "foureyes-pg-")
	if err != nil {
		return err
	}
	s.pgDir = pg
	if err := os.Chmod(pg, 0o711); err != nil { // PostgreSQL's user passes through to data/
		return err
	}
	s.Local.Cluster = &devstack.Cluster{Bin: s.Server, Dir: filepath.Join(s.Dir, "cluster"),
		PGDir: filepath.Join(pg, "data"), LogDir: s.Local.LogDir()}
	return s.Local.Cluster.Start(ctx, func(_ string, f func() (string, error)) error { _, err := f(); return err })
}

// StartRoles starts the roles, waits for the gateway and dials the admin's
// client (again, after a restart of the server's).
func (s *Stack) StartRoles(ctx context.Context) error {
	if err := s.Local.StartRoles(ctx); err != nil {
		return err
	}
	if err := s.Local.WaitGateway(ctx, time.Minute); err != nil {
		return err
	}
	if s.Client != nil {
		s.Client.Close()
	}
	var err error
	s.Client, err = s.Local.Dial(ctx, devstack.IdentityAdmin)
	return err
}

// ServerLog is the log of the server (the cluster's frontend): "" before
// it started.
func (s *Stack) ServerLog() string {
	if s.Local == nil {
		return ""
	}
	if c := s.Local.Cluster; c != nil {
		if p := c.Process("frontend"); p != nil {
			return p.LogFile
		}
		return ""
	}
	if s.Local.Server != nil {
		return s.Local.Server.LogFile
	}
	return ""
}

// Halt stops every process; the folders stay (the logs can be read).
func (s *Stack) Halt() {
	if s.Client != nil {
		s.Client.Close()
		s.Client = nil
	}
	if s.Local != nil {
		s.Local.Stop()
	}
}

// Stop halts the stack and removes its folders unless Keep.
func (s *Stack) Stop() {
	s.Halt()
	if s.keep {
		return
	}
	_ = os.RemoveAll(s.Dir)
	if s.pgDir != "" {
		_ = os.RemoveAll(s.pgDir)
	}
}

// WithoutOwnProofs is a BasePolicy: deployments/policy.yaml with its
// promotion rules, without the proof settings that ask for people's own
// signatures (tested on their own), so that the approval role's word counts.
func WithoutOwnProofs(s *Stack) (string, error) {
	return devstack.WriteSamplePolicy(s.Root, s.Dir, devstack.WithoutOwnProofs)
}
