package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/log"

	"github.com/foureyes/foureyes/formats/authzconfig"
	"github.com/foureyes/foureyes/temporal-server/internal/devserver"
	"github.com/foureyes/foureyes/temporal-server/internal/figures"
)

// testCA issues certificates for the mTLS test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
}

func newTestCA(t *testing.T, dir string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, dir: dir}
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", der)
	return ca
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// issue writes NAME.pem and NAME.key: a server certificate for 127.0.0.1
// when server, else a client certificate with subject.
func (ca *testCA) issue(t *testing.T, name string, subject pkix.Name, server bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(ca.dir, name+".pem"), filepath.Join(ca.dir, name+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	return certFile, keyFile
}

// TestSmokeMTLS: with --tls-client-ca every client shows a certificate; its
// subject names the identity, alone or with an API key of the same identity.
func TestSmokeMTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir)
	serverCert, serverKey := ca.issue(t, "server", pkix.Name{CommonName: "temporal"}, true)
	subject := func(cn string) pkix.Name { return pkix.Name{CommonName: cn, Organization: []string{"foureyes-test"}} }
	certs := map[string][2]string{}
	for _, cn := range []string{"foureyes-build", "release-manager", "operator-ui", "intruder"} {
		c, k := ca.issue(t, cn, subject(cn), false)
		certs[cn] = [2]string{c, k}
	}
	const rmKey = "release-manager-api-key"
	cfg := &authzconfig.Config{Namespace: "default", Roles: authzconfig.DefaultRoles(), Identities: []authzconfig.Identity{
		{Name: "foureyes-build", Role: authzconfig.RoleBuild, CertSubject: "CN=foureyes-build,O=foureyes-test"},
		{Name: "release-manager", Role: authzconfig.RoleReleaseManager, CertSubject: "CN=release-manager,O=foureyes-test", APIKeySHA256: authzconfig.HashKey(rmKey)},
		{Name: "operator-ui", Role: authzconfig.RoleOperator, CertSubject: "CN=operator-ui,O=foureyes-test"},
	}}
	port, _ := devserver.FreePort("127.0.0.1")
	uiPort, _ := devserver.FreePort("127.0.0.1")
	dyn, _ := devserver.ParseDynamicConfig(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := devserver.Start(ctx, devserver.Options{Port: port, UIPort: uiPort, DBFile: filepath.Join(dir, "temporal-server.db"),
		Authz: cfg, AuthzLog: slog.New(slog.NewJSONHandler(io.Discard, nil)), DynamicConfig: dyn,
		Logger: log.NewZapLogger(log.BuildZapLogger(log.Config{Level: "error", Format: "json"})),
		TLS: devserver.TLSOptions{CertFile: serverCert, KeyFile: serverKey, ClientCAFile: filepath.Join(dir, "ca.pem"),
			CAFile: filepath.Join(dir, "ca.pem"), UICertFile: certs["operator-ui"][0], UIKeyFile: certs["operator-ui"][1]}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	dial := func(cn, apiKey string) (client.Client, error) {
		tc := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		if cn != "" {
			pair, err := tls.LoadX509KeyPair(certs[cn][0], certs[cn][1])
			if err != nil {
				t.Fatal(err)
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		opts := client.Options{HostPort: s.FrontendAddr, Namespace: "default", ConnectionOptions: client.ConnectionOptions{TLS: tc},
			Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}
		if apiKey != "" {
			opts.Credentials = client.NewAPIKeyStaticCredentials(apiKey)
		}
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			t.Cleanup(c.Close)
		}
		return c, err
	}
	start := client.StartWorkflowOptions{TaskQueue: "foureyes-orchestrator", WorkflowExecutionTimeout: time.Minute}

	if c, err := dial("", ""); err == nil {
		if _, err := c.ExecuteWorkflow(ctx, start, "Release"); err == nil || isDenied(err) {
			t.Errorf("no client certificate: %v, want a failed handshake", err)
		}
	}
	build, err := dial("foureyes-build", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := build.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"}); err != nil {
		t.Errorf("build (certificate) describing the namespace: %v", err)
	}
	start.ID = "release-build"
	if _, err := build.ExecuteWorkflow(ctx, start, "Release"); !isDenied(err) {
		t.Errorf("build (certificate) starting: %v, want PermissionDenied", err)
	}
	for what, creds := range map[string][2]string{"unknown certificate": {"intruder", ""},
		"API key of another identity": {"foureyes-build", rmKey}} {
		c, err := dial(creds[0], creds[1])
		if err != nil {
			t.Fatal(err)
		}
		start.ID = "release-" + creds[0]
		if _, err := c.ExecuteWorkflow(ctx, start, "Release"); !isDenied(err) {
			t.Errorf("%s: %v, want PermissionDenied", what, err)
		}
	}
	rm, err := dial("release-manager", rmKey)
	if err != nil {
		t.Fatal(err)
	}
	start.ID = "release-mtls"
	if _, err := rm.ExecuteWorkflow(ctx, start, "Release"); err != nil {
		t.Fatalf("release manager (certificate and key): %v", err)
	}
	// The UI calls the frontend with its own client certificate (operator-ui).
	if status, body := uiList(ctx, t, s.UIAddr, "release-mtls"); status != http.StatusOK || !strings.Contains(body, "release-mtls") {
		t.Errorf("UI list over mTLS: %d %s", status, body)
	}
	tried, denied := s.Authorizer.Counts()
	figures.Report(t, "authz denied %d / tried %d over mTLS (identities by certificate subject)", denied, tried)
}

// uiList lists the namespace's workflows through the Web UI's API until want
// shows (visibility is eventually consistent) or 10 s pass.
func uiList(ctx context.Context, t *testing.T, addr, want string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/api/v1/namespaces/default/workflows")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.Contains(string(body), want) || time.Now().After(deadline) || ctx.Err() != nil {
			return resp.StatusCode, string(body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
