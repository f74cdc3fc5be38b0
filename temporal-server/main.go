// Command temporal-server is foureyes' Temporal server: Temporal v1.32 with
// all services in one process on SQLite and the Web UI beside it (what
// `temporal server start-dev` runs), where every call is authenticated (API
// key or mTLS certificate) and authorized by the caller's role (internal/authz).
//
//	temporal-server --config FILE [--data DIR] [--port 7233] [--ui-port 8233] ...
//	temporal-server init DIR      # a config and an API key per foureyes identity
//	temporal-server hash-key      # the api_key_sha256 of the key on stdin
//	temporal-server --services frontend|history|matching|worker|ui --host ... --postgres-addr ...
//	                              # one process of a cluster on PostgreSQL (cluster.go)
//	temporal-server setup-postgres [--postgres-*]   # the cluster's schema job
//	temporal-server sql-tool ARGS # temporal-sql-tool of the same version
//	temporal-server health --address HOST:PORT ...  # a container healthcheck
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/server/common/headers"
	"go.temporal.io/server/common/log"

	"github.com/foureyes/foureyes/formats/authzconfig"
	"github.com/foureyes/foureyes/temporal-server/internal/authz"
	"github.com/foureyes/foureyes/temporal-server/internal/devserver"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "temporal-server:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "init":
			if len(args) != 2 {
				return fmt.Errorf("usage: temporal-server init DIR")
			}
			return initDir(args[1], stdout)
		case "setup-postgres":
			return setupPostgres(args[1:], stdout, stderr)
		case "health":
			return health(args[1:], stdout, stderr)
		case "sql-tool":
			return sqlTool(args[1:])
		case "hash-key":
			key, err := io.ReadAll(stdin)
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, authzconfig.HashKey(strings.TrimSpace(string(key))))
			return nil
		}
	}
	return serve(args, stdout, stderr)
}

// servePprof serves net/http/pprof on addr (nothing when addr is ""): the
// bench profiles the server's CPU per release with it.
func servePprof(addr string, stderr io.Writer) (net.Addr, error) {
	if addr == "" {
		return nil, nil
	}
	if !loopback(addr) {
		// pprof has no authentication and /debug/pprof/profile burns CPU on
		// demand: it must not be reachable by other clients of the network
		return nil, fmt.Errorf("--pprof-listen %q: only a loopback address (127.0.0.1, ::1, localhost)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	go func() {
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		fmt.Fprintln(stderr, "temporal-server: pprof:", srv.Serve(ln))
	}()
	return ln.Addr(), nil
}

// loopback reports whether addr's host is a loopback address or localhost.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("temporal-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o devserver.Options
	var dyn, pragmas, attrs listFlag
	configFile := fs.String("config", "", "authorization config (identities, roles); required")
	dataDir := fs.String("data", "data", "folder of the SQLite file temporal-server.db (made on first run)")
	uiKeyFile := fs.String("ui-api-key-file", "", "file holding the API key of the operator the Web UI calls as")
	logLevel := fs.String("log-level", "warn", "server log level: debug, info, warn, error")
	pprofAddr := fs.String("pprof-listen", "", "serve Go's pprof endpoints (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060; \"\": none")
	fs.StringVar(&o.IP, "ip", "127.0.0.1", "IP of the frontend and the Web UI")
	fs.IntVar(&o.Port, "port", 7233, "frontend gRPC port")
	fs.IntVar(&o.UIPort, "ui-port", 8233, "Web UI port; 0: no UI")
	fs.IntVar(&o.HTTPPort, "http-port", 0, "frontend HTTP API port; 0: none")
	fs.IntVar(&o.MetricsPort, "metrics-port", 0, "Prometheus metrics port; 0: none")
	fs.Var(&dyn, "dynamic-config", "dynamic config KEY=VALUE, VALUE in JSON (repeatable)")
	fs.Var(&pragmas, "sqlite-pragma", "SQLite pragma NAME=VALUE, e.g. journal_mode=WAL (repeatable)")
	fs.Var(&attrs, "search-attribute", "one more search attribute NAME=TYPE (repeatable); foureyes' are always registered")
	fs.StringVar(&o.TLS.CertFile, "tls-cert", "", "frontend TLS certificate (PEM)")
	fs.StringVar(&o.TLS.KeyFile, "tls-key", "", "frontend TLS key (PEM)")
	fs.StringVar(&o.TLS.ClientCAFile, "tls-client-ca", "", "require client certificates signed by this CA (mTLS)")
	fs.StringVar(&o.TLS.CAFile, "tls-ca", "", "CA the Web UI trusts the frontend's certificate by")
	fs.StringVar(&o.TLS.UICertFile, "ui-tls-cert", "", "the Web UI's client certificate (mTLS)")
	fs.StringVar(&o.TLS.UIKeyFile, "ui-tls-key", "", "the Web UI's client key (mTLS)")
	fs.StringVar(&o.TLS.ServerName, "ui-tls-server-name", "", "name the Web UI checks in the frontend's certificate")
	fs.StringVar(&o.UICodecEndpoint, "ui-codec-endpoint", "", "codec server the Web UI decodes payloads with (the browser sends it its cookies); \"\": none")
	cluster := addClusterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *configFile == "" {
		return fmt.Errorf("--config is required (temporal-server init DIR writes one)")
	}
	began := time.Now()
	if _, err := servePprof(*pprofAddr, stderr); err != nil {
		return err
	}
	cfg, err := authzconfig.Load(*configFile)
	if err != nil {
		return err
	}
	o.Authz = cfg
	if o.DynamicConfig, err = devserver.ParseDynamicConfig(dyn); err != nil {
		return err
	}
	if o.SQLitePragmas, err = devserver.ParsePairs("--sqlite-pragma", pragmas); err != nil {
		return err
	}
	if o.SearchAttributes, err = devserver.ParseSearchAttributes(append(devserver.DefaultSearchAttributes, attrs...)); err != nil {
		return err
	}
	if *uiKeyFile != "" {
		b, err := os.ReadFile(*uiKeyFile)
		if err != nil {
			return fmt.Errorf("--ui-api-key-file: %w", err)
		}
		o.UIAPIKey = strings.TrimSpace(string(b))
	}
	o.Logger = log.NewZapLogger(log.BuildZapLogger(log.Config{Level: *logLevel, Format: "json"}))
	o.AuthzLog = slog.New(slog.NewJSONHandler(stderr, nil))
	if len(cluster.services) > 0 {
		return serveCluster(o, cluster, stdout)
	}
	o.DBFile = filepath.Join(*dataDir, "temporal-server.db")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := devserver.Start(ctx, o)
	if err != nil {
		return err
	}
	persistence := "reused"
	if s.Created {
		persistence = "created"
	}
	fmt.Fprintf(stdout, "%-22s %s (Temporal %s, authorization on: %d identities, namespace %s)\n",
		"Temporal Server:", s.FrontendAddr, headers.ServerVersion, len(cfg.Identities), cfg.Namespace)
	fmt.Fprintf(stdout, "%-22s %s (%s)\n", "Temporal Persistence:", o.DBFile, persistence)
	if s.UIAddr != "" {
		fmt.Fprintf(stdout, "%-22s http://%s\n", "Temporal UI:", s.UIAddr)
	}
	fmt.Fprintf(stdout, "%-22s %.2fs\n", "Ready in:", time.Since(began).Seconds())
	<-ctx.Done()
	s.Stop()
	tried, denied := s.Authorizer.Counts()
	fmt.Fprintf(stdout, "authz denied %d / tried %d\n", denied, tried)
	printInternal(stdout, s.Authorizer)
	return nil
}

// printInternal: the server's own calls through the internal frontend, on
// a line of their own (the stack's tests parse the one above).
func printInternal(w io.Writer, a *authz.Authorizer) {
	calls, denied := a.InternalCounts()
	fmt.Fprintf(w, "internal calls %d over internode mTLS, denied without it %d\n", calls-denied, denied)
}
