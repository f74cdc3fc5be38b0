package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/foureyes/foureyes/internal/devstack"
)

// runCluster is `go run ./stack cluster`: the stack and its demo on the
// production shape (PostgreSQL, four Temporal services with internode mTLS,
// the UI, every client by its certificate).
func runCluster(args []string, out io.Writer) int {
	return runUp(append([]string{"--cluster"}, args...), out)
}

// startCluster starts PostgreSQL, the schema job and the server processes
// (data/pg, data/cluster), then shows that a client without a certificate
// is refused.
func (s *stack) startCluster(ctx context.Context, bin string) error {
	if _, err := step(s.out, "PostgreSQL installed", func() (string, error) {
		return devstack.EnsurePostgresInstalled(func(m string) { logf(s.out, "%s", m) })
	}); err != nil {
		return err
	}
	c := &devstack.Cluster{Bin: bin, Dir: filepath.Join(s.cfg.dataDir, "cluster"), PGDir: filepath.Join(s.cfg.dataDir, "pg"),
		LogDir: s.logDir, Port: s.cfg.port, UIPort: s.cfg.uiPort, PGPort: s.cfg.pgPort}
	s.local.Cluster = c
	err := c.Start(ctx, func(what string, f func() (string, error)) error { _, err := step(s.out, what, f); return err })
	if err != nil {
		return err
	}
	refusal, err := c.RefusedWithoutCertificate(ctx)
	if err != nil {
		return err
	}
	logf(s.out, "%-28s REFUSED: %s", "client without certificate", refusal)
	return nil
}

// printClusterClients shows how the release manager and an operator reach
// the cluster, each with its own certificate.
func (s *stack) printClusterClients(rel func(string) string) {
	c := s.local.Cluster
	k := c.Certs()
	logf(s.out, "PostgreSQL         %s (data %s, user %s, password in %s)", c.Postgres.Addr(), rel(c.PGDir), devstack.PostgresUser, rel(c.PasswordFile()))
	for _, svc := range devstack.ClusterServices {
		if p := c.Process(svc); p != nil {
			logf(s.out, "temporal %-9s %s (pid %d, log %s)", svc, p.Addr, p.Pid(), rel(p.LogFile))
		}
	}
	rm := devstack.IdentityReleaseManager
	logf(s.out, "release manager    TEMPORAL_ADDRESS=%s TEMPORAL_TLS_CA=%s TEMPORAL_TLS_CERT=%s TEMPORAL_TLS_KEY=%s FOUREYES_GATEWAY_URL=%s %s/starter list",
		c.FrontendAddr(), rel(k.CAFile()), rel(k.ClientCertFile(rm)), rel(k.ClientKeyFile(rm)), s.local.GatewayURL(), rel(s.bin))
	op := devstack.IdentityOperator
	logf(s.out, "operator (CLI)     temporal workflow list --address %s --tls-ca-path %s --tls-cert-path %s --tls-key-path %s",
		c.FrontendAddr(), rel(k.CAFile()), rel(k.ClientCertFile(op)), rel(k.ClientKeyFile(op)))
}

// runCerts is `go run ./stack certs [--dir DIR]`: the cluster's CA, the
// frontend's and the internode certificate, one client certificate per
// identity and the server's authorization config (docker-compose mounts
// ./certs; `stack cluster` uses data/cluster).
func runCerts(args []string, out io.Writer) int {
	root, err := devstack.RepoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "stack certs: %v\n", err)
		return 1
	}
	fs := flag.NewFlagSet("stack certs", flag.ContinueOnError)
	dir := fs.String("dir", filepath.Join(root, "certs"), "folder (docker-compose.yml mounts ./certs)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "stack certs: bad arguments %v\n", args)
		return 2
	}
	if err := writeCerts(*dir, out); err != nil {
		fmt.Fprintf(os.Stderr, "stack certs: %v\n", err)
		return 1
	}
	return 0
}

func writeCerts(dir string, out io.Writer) error {
	began := time.Now()
	k := devstack.Certs{Dir: dir}
	if err := k.Ensure(); err != nil {
		return err
	}
	// Never commit a private key by accident.
	ignore := filepath.Join(dir, ".gitignore")
	if _, err := os.Stat(ignore); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(ignore, []byte("*\n"), 0o644); err != nil {
			return err
		}
	}
	logf(out, "%-22s %s", "CA", k.CAFile())
	logf(out, "%-22s %s", "frontend", k.FrontendCertFile())
	logf(out, "%-22s %s (server name %s)", "internode", k.InternodeCertFile(), devstack.InternodeServerName)
	for _, id := range devstack.ClusterIdentities() {
		logf(out, "%-22s %s (%s)", id, k.ClientCertFile(id), devstack.Subject(id))
	}
	logf(out, "%-22s %s", "database password", k.PasswordFile())
	logf(out, "%-22s %s (%.1fs)", "authorization", k.ConfigFile(), time.Since(began).Seconds())
	return nil
}
