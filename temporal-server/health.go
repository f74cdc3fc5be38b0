package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// health: `temporal-server health --address HOST:PORT [--tls-*]`, a
// container healthcheck for images without a shell: the gRPC health check
// of a service over mTLS (exit 0 when SERVING), or with --tcp only that
// the address accepts connections (the Web UI).
func health(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("temporal-server health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("address", "", "HOST:PORT to check; required")
	tcpOnly := fs.Bool("tcp", false, "only check that the address accepts TCP connections")
	service := fs.String("service", "", "gRPC health service name, e.g. temporal.api.workflowservice.v1.WorkflowService")
	cert := fs.String("tls-cert", "", "client certificate (the internode one)")
	key := fs.String("tls-key", "", "its key")
	ca := fs.String("tls-ca", "", "CA of the server's certificate")
	name := fs.String("tls-server-name", "", "name in the server's certificate")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addr == "" {
		return fmt.Errorf("health: --address is required")
	}
	if *tcpOnly {
		c, err := net.DialTimeout("tcp", *addr, 3*time.Second)
		if err != nil {
			return fmt.Errorf("health: %w", err)
		}
		return c.Close()
	}
	tc, err := healthTLS(*cert, *key, *ca, *name)
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: *service})
	if err != nil {
		return fmt.Errorf("health of %s: %w", *addr, err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health of %s: %s", *addr, resp.GetStatus())
	}
	fmt.Fprintln(stdout, *addr, resp.GetStatus())
	return nil
}

func healthTLS(cert, key, ca, name string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: name, MinVersion: tls.VersionTLS12}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("health: --tls-cert/--tls-key: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("health: --tls-ca: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("health: --tls-ca %s: no PEM certificate", ca)
		}
	}
	return tc, nil
}
