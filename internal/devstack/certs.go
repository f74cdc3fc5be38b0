package devstack

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/foureyes/foureyes/formats/authzconfig"
)

// Certs are the cluster's TLS material and authorization, under Dir:
// tls/ca.pem (the cluster's CA, kept), tls/frontend.pem (the public
// frontend), tls/internode.pem (what every Temporal service presents to
// every other, as server and client), tls/clients/IDENTITY.pem (one client
// certificate per identity: the five roles, the release manager, the
// operator, the UI, admin), temporal-server.yaml, where each identity is
// its certificate's subject, and postgres.password. No API keys: every client shows a certificate.
// `go run ./stack certs` writes them; the cluster and docker-compose use them.
type Certs struct{ Dir string }

// IdentityUI is the Web UI's identity on the cluster (role operator).
const IdentityUI = "temporal-ui"

// InternodeServerName is the name in the internode certificate that every
// service checks (the hosts it dials by address need not be in it).
const InternodeServerName = "temporal-internode"

// CertOrganization is the O= of every client certificate's subject.
const CertOrganization = "foureyes"

// ClusterIdentities: every identity of the cluster, in config order.
func ClusterIdentities() []string { return append(ServerIdentities(), IdentityUI) }

func (c Certs) ca() Credentials           { return Credentials{Dir: c.Dir} }
func (c Certs) CAFile() string            { return c.ca().CAFile() }
func (c Certs) ConfigFile() string        { return filepath.Join(c.Dir, "temporal-server.yaml") }
func (c Certs) FrontendCertFile() string  { return filepath.Join(c.Dir, "tls", "frontend.pem") }
func (c Certs) FrontendKeyFile() string   { return filepath.Join(c.Dir, "tls", "frontend.key") }
func (c Certs) InternodeCertFile() string { return filepath.Join(c.Dir, "tls", "internode.pem") }
func (c Certs) InternodeKeyFile() string  { return filepath.Join(c.Dir, "tls", "internode.key") }
func (c Certs) ClientCertFile(id string) string {
	return filepath.Join(c.Dir, "tls", "clients", id+".pem")
}
func (c Certs) ClientKeyFile(id string) string {
	return filepath.Join(c.Dir, "tls", "clients", id+".key")
}

// Subject is identity's certificate subject as the server reads it.
func Subject(identity string) string { return "CN=" + identity + ",O=" + CertOrganization }

// Ensure makes what is missing or ends within a month (the CA is kept),
// then writes the authorization config when it would change.
func (c Certs) Ensure() error {
	if err := os.MkdirAll(filepath.Join(c.Dir, "tls", "clients"), 0o700); err != nil {
		return err
	}
	ca, caKey, err := c.ca().ensureCA()
	if err != nil {
		return err
	}
	if err := ensurePayloadKey(c.Dir); err != nil {
		return fmt.Errorf("payload key: %w", err)
	}
	want := []struct {
		cert, key string
		tmpl      *x509.Certificate
	}{
		{c.FrontendCertFile(), c.FrontendKeyFile(), frontendTemplate()},
		{c.InternodeCertFile(), c.InternodeKeyFile(), internodeTemplate()},
	}
	for _, id := range ClusterIdentities() {
		want = append(want, struct {
			cert, key string
			tmpl      *x509.Certificate
		}{c.ClientCertFile(id), c.ClientKeyFile(id), clientTemplate(id)})
	}
	for _, w := range want {
		if cert, err := readCert(w.cert); err == nil && time.Until(cert.NotAfter) > renewBefore && cert.CheckSignatureFrom(ca) == nil {
			continue
		}
		if err := issue(w.tmpl, serverLifetime, ca, caKey, w.cert, w.key); err != nil {
			return fmt.Errorf("%s: %w", w.cert, err)
		}
	}
	if _, err := ensureSecret(c.PasswordFile()); err != nil {
		return err
	}
	return c.writeConfig()
}

// frontendTemplate: the public frontend, on this machine and in compose.
func frontendTemplate() *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: "temporal-frontend", Organization: []string{CertOrganization}},
		DNSNames: []string{"localhost", ComposeFrontendHost}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
}

// internodeTemplate: server and client at once (each service is both).
func internodeTemplate() *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: InternodeServerName, Organization: []string{CertOrganization}},
		DNSNames: []string{InternodeServerName}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
}

func clientTemplate(identity string) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: identity, Organization: []string{CertOrganization}},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
}

// writeConfig: the roles as on the local stack, each identity by subject.
func (c Certs) writeConfig() error {
	cfg := authzconfig.Config{Namespace: "default", Roles: ServerRoles()}
	for _, id := range ClusterIdentities() {
		role := serverRole(id)
		if id == IdentityUI {
			role = IdentityOperator
		}
		cfg.Identities = append(cfg.Identities, authzconfig.Identity{Name: id, Role: role, CertSubject: Subject(id)})
	}
	return writeServerConfig(c.ConfigFile(), cfg)
}

// ClientEnv is the TEMPORAL_* environment of identity calling addr: its own
// certificate and key by file, the cluster's CA.
func (c Certs) ClientEnv(addr, identity string) []string {
	return append([]string{"TEMPORAL_ADDRESS=" + addr, "TEMPORAL_TLS_CERT=" + c.ClientCertFile(identity),
		"TEMPORAL_TLS_KEY=" + c.ClientKeyFile(identity), "TEMPORAL_TLS_CA=" + c.CAFile()}, payloadEnv([]string{payloadKeyFile(c.Dir)})...)
}

// PasswordFile holds the temporal database user's password (0600).
func (c Certs) PasswordFile() string { return filepath.Join(c.Dir, "postgres.password") }
