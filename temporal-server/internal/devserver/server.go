package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/labstack/echo/v4"
	uiserver "github.com/temporalio/ui-server/v2/server"
	uiapi "github.com/temporalio/ui-server/v2/server/api"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/server/api/adminservice/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/foureyes/foureyes/formats/authzconfig"
	"github.com/foureyes/foureyes/temporal-server/internal/authz"
)

// Options of the server. The frontend and the UI listen on IP; the other
// services (history, matching, worker, internal frontend) on 127.0.0.1, on
// ports picked at start, each requiring internode mTLS with a certificate
// made at start and kept in memory (internode.go).
type Options struct {
	IP          string
	Port        int // frontend gRPC
	HTTPPort    int // frontend HTTP API; 0: none
	UIPort      int // Web UI; 0: none
	MetricsPort int // Prometheus /metrics; 0: none

	DBFile           string // SQLite file, made on first use
	SQLitePragmas    map[string]string
	SearchAttributes map[string]enumspb.IndexedValueType
	DynamicConfig    map[string]any // see ParseDynamicConfig

	Authz    *authzconfig.Config
	AuthzLog *slog.Logger // denials and admin calls
	Logger   log.Logger   // the server's own log

	// UIAPIKey is the API key the Web UI calls the frontend with: it must be
	// an operator's (read-only). Without one, the UI is denied everything.
	UIAPIKey string
	// UICodecEndpoint is the codec server the Web UI decodes payloads with
	// (the browser calls it with its own credentials, a session cookie);
	// "": payloads show as the server keeps them.
	UICodecEndpoint string
	TLS             TLSOptions
}

// TLSOptions turn on TLS at the frontend (and for the UI's connection to it).
type TLSOptions struct {
	CertFile, KeyFile string // the frontend's certificate; both or neither
	// ClientCAFile: require client certificates signed by it (mTLS); their
	// subjects map to identities (cert_subject).
	ClientCAFile string
	// CAFile is what the UI trusts the frontend's certificate by;
	// UICertFile/UIKeyFile its client certificate under mTLS.
	CAFile, UICertFile, UIKeyFile string
	// ServerName: the name the UI checks in the frontend's certificate
	// when it is not the host it dials ("" : that host).
	ServerName string
}

// Server is the running server.
type Server struct {
	Authorizer   *authz.Authorizer
	Created      bool   // the SQLite file was made by this start
	FrontendAddr string // host:port of the frontend
	UIAddr       string // host:port of the UI, "" without
	InternalAddr string // the internal frontend (internode mTLS only)
	// ServiceAddrs: host:port of each service but the frontend (history,
	// matching, worker, internal-frontend), all internode mTLS only.
	ServiceAddrs map[string]string

	temporal temporal.Server
	ui       *uiserver.Server
	conn     *grpc.ClientConn
}

const localhost = "127.0.0.1"

// Start builds and starts the server, then the UI; it returns once both
// listen and the search attributes are registered.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Authz == nil || o.AuthzLog == nil || o.Logger == nil || o.DBFile == "" || o.Port == 0 {
		return nil, errors.New("devserver: Options need Authz, AuthzLog, Logger, DBFile and Port")
	}
	if o.IP == "" {
		o.IP = localhost
	}
	if (o.TLS.CertFile == "") != (o.TLS.KeyFile == "") {
		return nil, errors.New("TLS: certificate and key go together")
	}
	if o.TLS.CertFile == "" && (o.TLS.ClientCAFile != "" || o.TLS.UICertFile != "") {
		return nil, errors.New("TLS: client certificates need the server's certificate and key")
	}
	if o.UIPort != 0 && o.UIAPIKey != "" {
		id, ok := lookupKey(o.Authz, o.UIAPIKey)
		if !ok {
			return nil, errors.New("UI API key: no identity has it")
		}
		if id.Role != authzconfig.RoleOperator {
			return nil, fmt.Errorf("UI API key: %s is %s, the UI must be an operator (read-only)", id.Name, id.Role)
		}
	}
	for _, p := range []struct {
		what string
		port int
	}{{"frontend", o.Port}, {"HTTP", o.HTTPPort}, {"UI", o.UIPort}, {"metrics", o.MetricsPort}} {
		if p.port == 0 {
			continue
		}
		if err := CheckPortFree(o.IP, p.port); err != nil {
			return nil, fmt.Errorf("%s port %d: %w", p.what, p.port, err)
		}
	}
	ports := map[primitives.ServiceName]int{}
	for _, s := range []primitives.ServiceName{primitives.InternalFrontendService, primitives.HistoryService,
		primitives.MatchingService, primitives.WorkerService} {
		p, err := FreePort(localhost)
		if err != nil {
			return nil, err
		}
		ports[s] = p
	}
	ports[primitives.FrontendService] = o.Port

	const clusterName = "active"
	sqlConf, created, err := sqlConfig(o.DBFile, o.SQLitePragmas, o.Authz.Namespace, clusterName, o.SearchAttributes)
	if err != nil {
		return nil, err
	}
	internode, err := newEphemeralInternode()
	if err != nil {
		return nil, err
	}
	conf := serverConfig(o, ports, sqlConf, clusterName, internode.groupTLS())

	internalAddr := net.JoinHostPort(localhost, strconv.Itoa(ports[primitives.InternalFrontendService]))
	conn, err := grpc.NewClient(internalAddr, grpc.WithTransportCredentials(credentials.NewTLS(internode.clientTLS())))
	if err != nil {
		return nil, err
	}
	authorizer := authz.NewAuthorizer(o.Authz,
		&authz.MutableStateResolver{Admin: adminservice.NewAdminServiceClient(conn)}, o.AuthzLog)
	claimMapper := authz.NewClaimMapper(o.Authz)

	dyn := dynamicconfig.StaticClient{}
	for k, v := range o.DynamicConfig {
		dyn[dynamicconfig.MakeKey(k)] = v
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for s, p := range ports {
		host := localhost
		if s == primitives.FrontendService {
			host = dialHost(o.IP)
		}
		hosts[s] = static.SingleLocalHost(net.JoinHostPort(host, strconv.Itoa(p)))
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices([]string{string(primitives.FrontendService), string(primitives.InternalFrontendService),
			string(primitives.HistoryService), string(primitives.MatchingService), string(primitives.WorkerService)}),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(o.Logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
		temporal.WithChainedFrontendGrpcInterceptors(singleRunInterceptor(o.Authz, o.AuthzLog)),
	)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("building the Temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("starting the Temporal server: %w", err)
	}
	s := &Server{Authorizer: authorizer, Created: created, temporal: srv, conn: conn, InternalAddr: internalAddr,
		FrontendAddr: net.JoinHostPort(dialHost(o.IP), strconv.Itoa(o.Port)), ServiceAddrs: map[string]string{}}
	for svc, p := range ports {
		if svc != primitives.FrontendService {
			s.ServiceAddrs[string(svc)] = net.JoinHostPort(localhost, strconv.Itoa(p))
		}
	}
	if err := s.registerSearchAttributes(ctx, o.Authz.Namespace, o.SearchAttributes); err != nil {
		s.Stop()
		return nil, err
	}
	if o.UIPort != 0 {
		if o.UIAPIKey == "" && o.TLS.UICertFile == "" {
			o.AuthzLog.Warn("the Web UI has no credential: every call it makes is denied")
		}
		if err := s.startUI(ctx, o, net.JoinHostPort(dialHost(o.IP), strconv.Itoa(o.Port))); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// startUI starts the Web UI on o.IP:o.UIPort, a client of the frontend at
// frontendAddr.
func (s *Server) startUI(ctx context.Context, o Options, frontendAddr string) error {
	s.ui = uiServer(o, frontendAddr)
	s.UIAddr = net.JoinHostPort(dialHost(o.IP), strconv.Itoa(o.UIPort))
	go func() {
		if err := s.ui.Start(); err != nil {
			o.AuthzLog.Error("the Web UI stopped", "error", err)
		}
	}()
	if err := waitListening(ctx, s.UIAddr, 10*time.Second); err != nil {
		return fmt.Errorf("web UI: %w", err)
	}
	return nil
}

// Stop stops the UI, then the server.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
	}
	if s.temporal != nil { // nil in a process that runs only the UI
		_ = s.temporal.Stop()
	}
	if s.conn != nil {
		_ = s.conn.Close()
	}
}

func dialHost(ip string) string {
	if ip == "0.0.0.0" || ip == "::" || ip == "" {
		return localhost
	}
	return ip
}

func lookupKey(c *authzconfig.Config, key string) (authzconfig.Identity, bool) {
	h := authzconfig.HashKey(key)
	for _, id := range c.Identities {
		if id.APIKeySHA256 == h {
			return id, true
		}
	}
	return authzconfig.Identity{}, false
}

func serverConfig(o Options, ports map[primitives.ServiceName]int, sqlConf *config.SQL, clusterName string,
	internode config.GroupTLS) *config.Config {
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = localhost
	if o.MetricsPort != 0 {
		conf.Global.Metrics = &metrics.Config{Prometheus: &metrics.PrometheusConfig{
			ListenAddress: net.JoinHostPort(o.IP, strconv.Itoa(o.MetricsPort)), HandlerPath: "/metrics"}}
	}
	conf.Global.TLS.Internode = internode
	if o.TLS.CertFile != "" {
		conf.Global.TLS.Frontend = config.GroupTLS{Server: config.ServerTLS{
			CertFile: o.TLS.CertFile, KeyFile: o.TLS.KeyFile}}
		if o.TLS.ClientCAFile != "" {
			conf.Global.TLS.Frontend.Server.ClientCAFiles = []string{o.TLS.ClientCAFile}
			conf.Global.TLS.Frontend.Server.RequireClientAuth = true
		}
	}
	conf.Persistence.DefaultStore = "sqlite-default"
	conf.Persistence.VisibilityStore = "sqlite-default"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: sqlConf}}
	httpAddr := ""
	if o.HTTPPort != 0 {
		httpAddr = net.JoinHostPort(dialHost(o.IP), strconv.Itoa(o.HTTPPort))
	}
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{clusterName: {
			Enabled: true, InitialFailoverVersion: 1, ClusterID: uuid.NewString(),
			RPCAddress:  net.JoinHostPort(dialHost(o.IP), strconv.Itoa(o.Port)),
			HTTPAddress: httpAddr,
		}},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for s, p := range ports {
		rpc := config.RPC{GRPCPort: p, BindOnIP: localhost}
		if s == primitives.FrontendService {
			rpc.BindOnIP, rpc.HTTPPort = o.IP, o.HTTPPort
		}
		conf.Services[string(s)] = config.Service{RPC: rpc}
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	// PublicClient stays empty: the server's own workers reach the internal
	// frontend over internode mTLS (Temporal picks the internode client
	// config when there is an internal frontend), where its own claim
	// mapper makes them the server.
	return &conf
}

// registerSearchAttributes adds the attributes a reused SQLite file lacks
// (a new one got them with the namespace).
func (s *Server) registerSearchAttributes(ctx context.Context, ns string, attrs map[string]enumspb.IndexedValueType) error {
	if len(attrs) == 0 {
		return nil
	}
	op := operatorservice.NewOperatorServiceClient(s.conn)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var have map[string]enumspb.IndexedValueType
	for {
		resp, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
		if err == nil {
			have = resp.GetCustomAttributes()
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("listing search attributes: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, name := range sortedKeys(attrs) {
		t, ok := have[name]
		switch {
		case !ok:
			missing[name] = attrs[name]
		case t != attrs[name]:
			return fmt.Errorf("search attribute %s is %s in the database, not %s", name, t, attrs[name])
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err := op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: ns, SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("adding search attributes: %w", err)
	}
	return nil
}

// uiServer is the Web UI, calling the frontend as the operator whose key it
// has (the browser's own Authorization header is not forwarded).
func uiServer(o Options, frontendAddr string) *uiserver.Server {
	cfg := &uiconfig.Config{
		Host: o.IP, Port: o.UIPort, EnableUI: true, HideLogs: true,
		TemporalGRPCAddress: frontendAddr,
		DefaultNamespace:    o.Authz.Namespace,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		Codec:               uiconfig.Codec{Endpoint: o.UICodecEndpoint, IncludeCredentials: o.UICodecEndpoint != ""},
	}
	if o.TLS.CertFile != "" || o.TLS.CAFile != "" { // CAFile alone: a UI process of a cluster
		cfg.TLS = uiconfig.TLS{CaFile: o.TLS.CAFile, CertFile: o.TLS.UICertFile, KeyFile: o.TLS.UIKeyFile,
			EnableHostVerification: true, ServerName: o.TLS.ServerName}
	}
	key := o.UIAPIKey
	middleware := []uiapi.Middleware{
		func(echo.Context) runtime.ServeMuxOption {
			return runtime.WithIncomingHeaderMatcher(func(h string) (string, bool) {
				if http.CanonicalHeaderKey(h) == "Authorization" {
					return "", false
				}
				return runtime.DefaultHeaderMatcher(h)
			})
		},
	}
	if key != "" {
		middleware = append(middleware, func(echo.Context) runtime.ServeMuxOption {
			return runtime.WithMetadata(func(context.Context, *http.Request) metadata.MD {
				return metadata.Pairs("authorization", "Bearer "+key)
			})
		})
	}
	return uiserver.NewServer(uiserveroptions.WithConfigProvider(cfg), uiserveroptions.WithAPIMiddleware(middleware))
}

func waitListening(ctx context.Context, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not listening: %w", addr, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
