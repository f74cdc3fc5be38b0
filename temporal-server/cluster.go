package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/server/common/headers"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/tools/sql"

	"github.com/foureyes/foureyes/temporal-server/internal/devserver"
)

// clusterFlags: a process of a cluster on PostgreSQL (--services set)
// instead of the single-process SQLite server.
type clusterFlags struct {
	services, hosts listFlag
	postgres        devserver.PostgresOptions
	shards          int
	internode       devserver.InternodeTLS
}

func addClusterFlags(fs *flag.FlagSet) *clusterFlags {
	c := &clusterFlags{}
	fs.Var(&c.services, "services", "run as one process of a cluster on PostgreSQL: frontend, history, matching, worker, ui (comma-separated or repeated)")
	fs.Var(&c.hosts, "host", "SERVICE=HOST:PORT of every service of the cluster: frontend, internal-frontend, history, matching, worker (repeatable)")
	addPostgresFlags(fs, &c.postgres)
	fs.IntVar(&c.shards, "history-shards", 4, "history shards; fixed when the database is made")
	fs.StringVar(&c.internode.CertFile, "internode-tls-cert", "", "certificate every service presents to every other (cluster)")
	fs.StringVar(&c.internode.KeyFile, "internode-tls-key", "", "its key")
	fs.StringVar(&c.internode.CAFile, "internode-tls-ca", "", "CA the services' certificates must be signed by")
	fs.StringVar(&c.internode.ServerName, "internode-tls-server-name", "temporal-internode", "name every service checks in the others' certificates")
	return c
}

func addPostgresFlags(fs *flag.FlagSet, p *devserver.PostgresOptions) {
	fs.StringVar(&p.Addr, "postgres-addr", "127.0.0.1:5432", "PostgreSQL HOST:PORT")
	fs.StringVar(&p.User, "postgres-user", "temporal", "PostgreSQL user")
	fs.StringVar(&p.PasswordFile, "postgres-password-file", "", "file holding the PostgreSQL password")
	fs.StringVar(&p.Database, "postgres-db", "temporal", "database of the default store")
	fs.StringVar(&p.Visibility, "postgres-visibility-db", "temporal_visibility", "database of visibility")
}

func (c *clusterFlags) options() (devserver.ClusterOptions, error) {
	co := devserver.ClusterOptions{Postgres: c.postgres, HistoryShards: int32(c.shards), Internode: c.internode,
		Hosts: map[primitives.ServiceName]string{}}
	for _, s := range c.services {
		co.Services = append(co.Services, strings.Split(s, ",")...)
	}
	for _, h := range c.hosts {
		name, addr, ok := strings.Cut(h, "=")
		if !ok || addr == "" {
			return co, fmt.Errorf("--host %q: want SERVICE=HOST:PORT", h)
		}
		co.Hosts[primitives.ServiceName(name)] = addr
	}
	return co, nil
}

// serveCluster runs one process of a cluster until SIGINT/SIGTERM.
func serveCluster(o devserver.Options, cf *clusterFlags, stdout io.Writer) error {
	c, err := cf.options()
	if err != nil {
		return err
	}
	began := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := devserver.StartService(ctx, o, c)
	if err != nil {
		return err
	}
	what := strings.Join(c.Services, ",")
	fmt.Fprintf(stdout, "%-22s %s (Temporal %s, PostgreSQL %s/%s, internode mTLS)\n", "Temporal "+what+":",
		c.Hosts[primitives.ServiceName(c.Services[0])], headers.ServerVersion, c.Postgres.Addr, c.Postgres.Database)
	if s.FrontendAddr != "" {
		fmt.Fprintf(stdout, "%-22s %s (authorization on: %d identities, namespace %s)\n", "Temporal Server:",
			s.FrontendAddr, len(o.Authz.Identities), o.Authz.Namespace)
	}
	if s.UIAddr != "" {
		fmt.Fprintf(stdout, "%-22s http://%s\n", "Temporal UI:", s.UIAddr)
	}
	fmt.Fprintf(stdout, "%-22s %.2fs\n", "Ready in:", time.Since(began).Seconds())
	<-ctx.Done()
	s.Stop()
	if s.Authorizer != nil && s.FrontendAddr != "" {
		tried, denied := s.Authorizer.Counts()
		fmt.Fprintf(stdout, "authz denied %d / tried %d\n", denied, tried)
		printInternal(stdout, s.Authorizer)
	}
	return nil
}

// setupPostgres: `temporal-server setup-postgres [flags]`, the cluster's
// one-shot schema job (create both databases, set up and migrate their
// schema with temporal-sql-tool).
func setupPostgres(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("temporal-server setup-postgres", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var p devserver.PostgresOptions
	addPostgresFlags(fs, &p)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("setup-postgres: unexpected argument %q", fs.Arg(0))
	}
	began := time.Now()
	if err := devserver.SetupPostgres(p); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema of %s and %s at %s: Temporal %s (%.1fs)\n", p.Database, p.Visibility, p.Addr,
		headers.ServerVersion, time.Since(began).Seconds())
	return nil
}

// sqlTool: `temporal-server sql-tool ARGS`, upstream temporal-sql-tool of
// the same server version, built in (its schemas embedded: --schema-name).
func sqlTool(args []string) error {
	return sql.RunTool(append([]string{"temporal-sql-tool"}, args...))
}
