package devstack

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// The SDK turns TLS on whenever it sends an API key, so the local server
// speaks TLS too: a CA made on first run (kept, 10 years) signs the
// frontend's certificate for 127.0.0.1 and localhost (renewed a month before
// it ends).
const (
	caLifetime     = 10 * 365 * 24 * time.Hour
	serverLifetime = 365 * 24 * time.Hour
	renewBefore    = 30 * 24 * time.Hour
)

// CAFile is the local CA's certificate: clients trust the server by it.
func (c Credentials) CAFile() string { return filepath.Join(c.Dir, "tls", "ca.pem") }

func (c Credentials) caKeyFile() string { return filepath.Join(c.Dir, "tls", "ca.key") }

// ServerCertFile and ServerKeyFile are the frontend's certificate and key.
func (c Credentials) ServerCertFile() string { return filepath.Join(c.Dir, "tls", "server.pem") }
func (c Credentials) ServerKeyFile() string  { return filepath.Join(c.Dir, "tls", "server.key") }

func (c Credentials) ensureTLS() error {
	if err := os.MkdirAll(filepath.Join(c.Dir, "tls"), 0o700); err != nil {
		return err
	}
	ca, caKey, err := c.ensureCA()
	if err != nil {
		return err
	}
	if cert, err := readCert(c.ServerCertFile()); err == nil && time.Until(cert.NotAfter) > renewBefore &&
		cert.CheckSignatureFrom(ca) == nil {
		return nil
	}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "foureyes local Temporal server"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	return issue(tmpl, serverLifetime, ca, caKey, c.ServerCertFile(), c.ServerKeyFile())
}

// ensureCA returns the CA, making it when there is none.
func (c Credentials) ensureCA() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	ca, errCert := readCert(c.CAFile())
	pair, errKey := tls.LoadX509KeyPair(c.CAFile(), c.caKeyFile())
	if errCert == nil && errKey == nil {
		key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
		if !ok {
			return nil, nil, fmt.Errorf("%s: not an ECDSA key", c.caKeyFile())
		}
		return ca, key, nil
	}
	if !errors.Is(errCert, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s or %s unreadable (remove both to make a new CA): %v %v", c.CAFile(), c.caKeyFile(), errCert, errKey)
	}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "foureyes local CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	if err := issue(tmpl, caLifetime, nil, nil, c.CAFile(), c.caKeyFile()); err != nil {
		return nil, nil, err
	}
	return c.ensureCA()
}

// issue writes a new key and tmpl signed by parent (self-signed if nil).
func issue(tmpl *x509.Certificate, lifetime time.Duration, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = serial, time.Now().Add(-time.Hour), time.Now().Add(lifetime)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return x509.ParseCertificate(block.Bytes)
}
