package devstack

import (
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"
)

// TestCertsEnsure: every identity's certificate chains to the CA and its
// subject, as the server prints it, is the one the config names; the
// internode certificate serves and calls; a second Ensure keeps them.
func TestCertsEnsure(t *testing.T) {
	k := Certs{Dir: t.TempDir()}
	if err := k.Ensure(); err != nil {
		t.Fatal(err)
	}
	ca, err := readCert(k.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	cfg, err := os.ReadFile(k.ConfigFile())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ClusterIdentities() {
		cert, err := readCert(k.ClientCertFile(id))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		if got := cert.Subject.String(); got != Subject(id) || !strings.Contains(string(cfg), "cert_subject: "+got) {
			t.Errorf("%s: subject %q, config names %q", id, got, Subject(id))
		}
	}
	in, _ := readCert(k.InternodeCertFile())
	for _, use := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := in.Verify(x509.VerifyOptions{Roots: roots, DNSName: InternodeServerName, KeyUsages: []x509.ExtKeyUsage{use}}); err != nil {
			t.Errorf("internode certificate, usage %v: %v", use, err)
		}
	}
	fe, _ := readCert(k.FrontendCertFile())
	for _, host := range []string{"localhost", "127.0.0.1", ComposeFrontendHost} {
		if err := fe.VerifyHostname(host); err != nil {
			t.Errorf("frontend certificate: %v", err)
		}
	}
	before, _ := os.Stat(k.ClientCertFile(IdentityUI))
	time.Sleep(10 * time.Millisecond)
	if err := k.Ensure(); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(k.ClientCertFile(IdentityUI)); !after.ModTime().Equal(before.ModTime()) {
		t.Error("a second Ensure rewrote a valid certificate")
	}
}
