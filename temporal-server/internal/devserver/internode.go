package devserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"

	"go.temporal.io/server/common/config"
)

// InternodeServerName is the name in the single-process server's internode
// certificate (the cluster's default --internode-tls-server-name too).
const InternodeServerName = "temporal-internode"

// ephemeralInternode is the single-process server's internode mTLS: a CA
// and one certificate made at each start and kept in this process's memory
// only. History, matching, the worker and the internal frontend listen on
// 127.0.0.1, where any local process can connect: each presents this
// certificate and requires the caller's, which no other process has.
type ephemeralInternode struct {
	cert                   tls.Certificate
	pool                   *x509.CertPool
	certPEM, keyPEM, caPEM []byte
}

func newEphemeralInternode() (*ephemeralInternode, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ca := &x509.Certificate{Subject: pkix.Name{CommonName: "foureyes dev server internode CA"},
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, _, err := issue(ca, nil, caKey)
	if err != nil {
		return nil, err
	}
	ca, _ = x509.ParseCertificate(caDER)
	leaf := &x509.Certificate{Subject: pkix.Name{CommonName: InternodeServerName},
		DNSNames: []string{InternodeServerName}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	leafDER, leafKey, err := issue(leaf, ca, caKey)
	if err != nil {
		return nil, err
	}
	// caKey goes out of scope here: no further certificate can be issued.
	return assembleInternode(caDER, leafDER, leafKey)
}

// issue signs tmpl by parent's key (self-signed when parent is nil) with a
// new key for tmpl, valid from an hour ago for ten years (it lives as long
// as the process).
func issue(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) ([]byte, *ecdsa.PrivateKey, error) {
	key := parentKey
	if parent != nil {
		var err error
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, nil, err
		}
	} else {
		parent = tmpl
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().AddDate(10, 0, 0)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, fmt.Errorf("internode certificate: %w", err)
	}
	return der, key, nil
}

func assembleInternode(caDER, leafDER []byte, leafKey *ecdsa.PrivateKey) (*ephemeralInternode, error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return nil, err
	}
	in := &ephemeralInternode{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		caPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pool:    x509.NewCertPool(),
	}
	if in.cert, err = tls.X509KeyPair(in.certPEM, in.keyPEM); err != nil {
		return nil, err
	}
	in.pool.AppendCertsFromPEM(in.caPEM)
	return in, nil
}

// groupTLS is Temporal's internode config: as the cluster's (clusterTLS),
// with the PEM data inline (base64, as Temporal reads *Data fields).
func (in *ephemeralInternode) groupTLS() config.GroupTLS {
	b64 := base64.StdEncoding.EncodeToString
	return config.GroupTLS{
		Server: config.ServerTLS{CertData: b64(in.certPEM), KeyData: b64(in.keyPEM),
			ClientCAData: []string{b64(in.caPEM)}, RequireClientAuth: true},
		Client: config.ClientTLS{ServerName: InternodeServerName, RootCAData: []string{b64(in.caPEM)}},
	}
}

// clientTLS is the authorizer's connection to the internal frontend.
func (in *ephemeralInternode) clientTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{in.cert}, RootCAs: in.pool,
		ServerName: InternodeServerName, MinVersion: tls.VersionTLS12}
}
