package devserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/api/adminservice/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/foureyes/foureyes/temporal-server/internal/authz"
)

// The processes of a cluster, as --services names them. "frontend" runs
// the public frontend and the internal frontend (the server's own calls, on
// internode mTLS); "ui" runs only the Web UI, a client of the frontend.
const (
	ServiceFrontend = "frontend"
	ServiceHistory  = "history"
	ServiceMatching = "matching"
	ServiceWorker   = "worker"
	ServiceUI       = "ui"
)

// ClusterServices are the server's services in start order.
var ClusterServices = []string{ServiceFrontend, ServiceHistory, ServiceMatching, ServiceWorker}

// ClusterOptions make one process of a cluster on PostgreSQL: the services
// it runs and where every service of the cluster listens (static
// membership: each service has one host, known to every process).
type ClusterOptions struct {
	Services []string
	// Hosts: host:port of each Temporal service, the internal frontend
	// included; every process gets the same map.
	Hosts         map[primitives.ServiceName]string
	Postgres      PostgresOptions
	HistoryShards int32 // fixed when the database is made: the same on every process and run
	Internode     InternodeTLS
}

// InternodeTLS is the certificate every service presents to every other
// (as server and as client) and the CA it requires theirs to be signed by.
type InternodeTLS struct {
	CertFile, KeyFile, CAFile string
	ServerName                string // name in the certificate, checked by every client
}

// internodeServices are the services every process must know the host of.
var internodeServices = []primitives.ServiceName{primitives.FrontendService, primitives.InternalFrontendService,
	primitives.HistoryService, primitives.MatchingService, primitives.WorkerService}

func (c ClusterOptions) runs(s string) bool { return slices.Contains(c.Services, s) }

// temporalServices maps --services names to Temporal's services.
func (c ClusterOptions) temporalServices() []string {
	var out []string
	for _, s := range c.Services {
		switch s {
		case ServiceFrontend:
			out = append(out, string(primitives.FrontendService), string(primitives.InternalFrontendService))
		case ServiceHistory, ServiceMatching, ServiceWorker:
			out = append(out, s)
		}
	}
	return out
}

func (c ClusterOptions) check() error {
	if len(c.Services) == 0 {
		return errors.New("--services: name at least one of frontend, history, matching, worker, ui")
	}
	for _, s := range c.Services {
		if s != ServiceUI && !slices.Contains(ClusterServices, s) {
			return fmt.Errorf("--services: unknown service %q (frontend, history, matching, worker, ui)", s)
		}
	}
	if len(c.temporalServices()) == 0 {
		return nil // the UI alone needs no database and no peers
	}
	for _, s := range internodeServices {
		if _, _, err := net.SplitHostPort(c.Hosts[s]); err != nil {
			return fmt.Errorf("--host %s=HOST:PORT is required (every process knows every service): %q", s, c.Hosts[s])
		}
	}
	if c.Internode.CertFile == "" || c.Internode.KeyFile == "" || c.Internode.CAFile == "" {
		return errors.New("a cluster needs internode mTLS: --internode-tls-cert, --internode-tls-key and --internode-tls-ca")
	}
	if c.HistoryShards < 1 {
		return fmt.Errorf("--history-shards %d: at least 1", c.HistoryShards)
	}
	return c.Postgres.check()
}

// StartService starts the services of one cluster process (see
// ClusterOptions) with o's authorization, frontend TLS, UI and dynamic
// config. The frontend process registers the namespace and the search
// attributes when the database lacks them.
func StartService(ctx context.Context, o Options, c ClusterOptions) (*Server, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if o.Authz == nil || o.AuthzLog == nil || o.Logger == nil {
		return nil, errors.New("devserver: Options need Authz, AuthzLog and Logger")
	}
	if c.runs(ServiceFrontend) && o.TLS.CertFile == "" {
		return nil, errors.New("the cluster's frontend needs TLS: --tls-cert and --tls-key")
	}
	s := &Server{}
	if len(c.temporalServices()) > 0 {
		if err := s.startTemporal(ctx, o, c); err != nil {
			return nil, err
		}
	}
	if c.runs(ServiceUI) {
		if err := s.startUI(ctx, o, c.frontendAddr(o)); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// frontendAddr is where the UI dials the frontend: its host in Hosts,
// else o.IP:o.Port.
func (c ClusterOptions) frontendAddr(o Options) string {
	if a := c.Hosts[primitives.FrontendService]; a != "" {
		return a
	}
	return net.JoinHostPort(dialHost(o.IP), strconv.Itoa(o.Port))
}

func (s *Server) startTemporal(ctx context.Context, o Options, c ClusterOptions) error {
	if err := s.dialInternal(o, c); err != nil {
		return err
	}
	opts, err := s.serverOptions(o, c)
	if err == nil {
		err = s.build(opts, strings.Join(c.Services, ","))
	}
	if err != nil {
		s.conn.Close()
		return err
	}
	if !c.runs(ServiceFrontend) {
		return nil
	}
	s.FrontendAddr = c.Hosts[primitives.FrontendService]
	err = s.registerNamespace(ctx, o.Authz.Namespace)
	if err == nil {
		err = s.registerSearchAttributes(ctx, o.Authz.Namespace, o.SearchAttributes)
	}
	if err != nil {
		s.Stop()
	}
	return err
}

// dialInternal is the authorizer's connection to the internal frontend,
// over internode mTLS like the services'.
func (s *Server) dialInternal(o Options, c ClusterOptions) error {
	internodeClient, err := internodeClientTLS(c.Internode)
	if err != nil {
		return err
	}
	s.InternalAddr = c.Hosts[primitives.InternalFrontendService]
	s.conn, err = grpc.NewClient(s.InternalAddr, grpc.WithTransportCredentials(credentials.NewTLS(internodeClient)))
	if err != nil {
		return err
	}
	s.Authorizer = authz.NewAuthorizer(o.Authz,
		&authz.MutableStateResolver{Admin: adminservice.NewAdminServiceClient(s.conn)}, o.AuthzLog)
	return nil
}

func (s *Server) serverOptions(o Options, c ClusterOptions) ([]temporal.ServerOption, error) {
	conf, err := clusterConfig(o, c)
	if err != nil {
		return nil, err
	}
	claimMapper := authz.NewClaimMapper(o.Authz)
	dyn := dynamicconfig.StaticClient{}
	for k, v := range o.DynamicConfig {
		dyn[dynamicconfig.MakeKey(k)] = v
	}
	return []temporal.ServerOption{
		temporal.WithConfig(conf),
		temporal.ForServices(c.temporalServices()),
		temporal.WithStaticHosts(c.staticHosts()),
		temporal.WithLogger(o.Logger),
		temporal.WithAuthorizer(s.Authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
		temporal.WithChainedFrontendGrpcInterceptors(singleRunInterceptor(o.Authz, o.AuthzLog)),
	}, nil
}

// build builds and starts the services. On a new database every process
// writes the cluster's metadata; all but the first find it written
// meanwhile ("version mismatch"): once it is there, building again reads it.
func (s *Server) build(opts []temporal.ServerOption, what string) error {
	var err error
	for attempt := 0; ; attempt++ {
		s.temporal, err = temporal.NewServer(opts...)
		if err == nil || attempt == 5 || !strings.Contains(err.Error(), "SaveClusterMetadata encountered version mismatch") {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		return fmt.Errorf("building the Temporal server (%s): %w", what, err)
	}
	if err := s.temporal.Start(); err != nil {
		return fmt.Errorf("starting the Temporal server (%s): %w", what, err)
	}
	return nil
}

// staticHosts: one host per service; Self only for this process's.
func (c ClusterOptions) staticHosts() map[primitives.ServiceName]static.Hosts {
	mine := map[string]bool{}
	for _, s := range c.temporalServices() {
		mine[s] = true
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for _, s := range internodeServices {
		h := static.Hosts{All: []string{c.Hosts[s]}}
		if mine[string(s)] {
			h.Self = c.Hosts[s]
		}
		hosts[s] = h
	}
	return hosts
}

// registerNamespace makes the namespace on a new database (the other
// services may still be starting: Unavailable is retried for a minute).
func (s *Server) registerNamespace(ctx context.Context, ns string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	wf := workflowservice.NewWorkflowServiceClient(s.conn)
	for {
		_, err := wf.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{Namespace: ns,
			WorkflowExecutionRetentionPeriod: durationpb.New(72 * time.Hour)})
		var exists *serviceerror.NamespaceAlreadyExists
		if err == nil || errors.As(err, &exists) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("registering namespace %s: %w", ns, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// clusterConfig is the server config every process of a cluster shares,
// but for the services it runs and the address it broadcasts.
func clusterConfig(o Options, c ClusterOptions) (*config.Config, error) {
	var conf config.Config
	var err error
	if conf.Persistence, err = c.Postgres.persistence(c.HistoryShards); err != nil {
		return nil, err
	}
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	if o.MetricsPort != 0 {
		conf.Global.Metrics = &metrics.Config{Prometheus: &metrics.PrometheusConfig{
			ListenAddress: net.JoinHostPort(o.IP, strconv.Itoa(o.MetricsPort)), HandlerPath: "/metrics"}}
	}
	conf.Global.TLS = clusterTLS(o, c)
	conf.Services = map[string]config.Service{}
	for _, s := range internodeServices {
		_, port, _ := net.SplitHostPort(c.Hosts[s])
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("--host %s=%s: port: %w", s, c.Hosts[s], err)
		}
		conf.Services[string(s)] = config.Service{RPC: config.RPC{GRPCPort: p, BindOnIP: o.IP}}
	}
	const name = "active"
	frontend := c.Hosts[primitives.FrontendService]
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10, MasterClusterName: name, CurrentClusterName: name,
		ClusterInformation: map[string]cluster.ClusterInformation{name: {
			// The same id from every process: they may all write the cluster's metadata first.
			Enabled: true, InitialFailoverVersion: 1, ClusterID: uuid.NewSHA1(uuid.NameSpaceURL, []byte("foureyes:"+frontend)).String(),
			RPCAddress: frontend,
		}},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	return &conf, nil
}

// clusterTLS: internode mTLS (history, matching, internal frontend, the
// worker's calls, each side checking the other's certificate against the
// internode CA), and the public frontend's TLS for clients (client
// certificates required under --tls-client-ca).
func clusterTLS(o Options, c ClusterOptions) config.RootTLS {
	in := c.Internode
	var t config.RootTLS
	t.Internode = config.GroupTLS{
		Server: config.ServerTLS{CertFile: in.CertFile, KeyFile: in.KeyFile,
			ClientCAFiles: []string{in.CAFile}, RequireClientAuth: true},
		Client: config.ClientTLS{ServerName: in.ServerName, RootCAFiles: []string{in.CAFile}},
	}
	if o.TLS.CertFile != "" {
		t.Frontend.Server = config.ServerTLS{CertFile: o.TLS.CertFile, KeyFile: o.TLS.KeyFile}
		if o.TLS.ClientCAFile != "" {
			t.Frontend.Server.ClientCAFiles = []string{o.TLS.ClientCAFile}
			t.Frontend.Server.RequireClientAuth = true
		}
	}
	t.RefreshInterval = time.Hour // certificates renewed on disk are picked up without a restart
	return t
}

// internodeClientTLS is the frontend authorizer's connection to the
// internal frontend: the internode certificate, as the services use.
func internodeClientTLS(in InternodeTLS) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(in.CertFile, in.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("internode TLS certificate: %w", err)
	}
	pem, err := os.ReadFile(in.CAFile)
	if err != nil {
		return nil, fmt.Errorf("internode TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("internode TLS CA %s: no PEM certificate", in.CAFile)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: in.ServerName,
		MinVersion: tls.VersionTLS12}, nil
}
