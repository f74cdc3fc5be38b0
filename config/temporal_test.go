package config

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/foureyes/foureyes/codec"
	"github.com/foureyes/foureyes/tracing"
)

func TestLoadTemporal(t *testing.T) {
	ctx := context.Background()
	got, err := LoadTemporal(ctx, envconfig.MapLookuper(map[string]string{"TEMPORAL_ADDRESS": ""}))
	require.NoError(t, err)
	assert.Equal(t, Temporal{Address: "localhost:7233", Namespace: "default", Compression: "gzip", PayloadCompression: "on"}, got)

	all := map[string]string{
		"TEMPORAL_ADDRESS": "ns.tmprl.cloud:7233", "TEMPORAL_NAMESPACE": "ns", "TEMPORAL_API_KEY": "k",
		"TEMPORAL_TLS_CERT": "c.pem", "TEMPORAL_TLS_KEY": "k.pem", "TEMPORAL_TLS_CA": "ca.pem",
	}
	got, err = LoadTemporal(ctx, envconfig.MapLookuper(all))
	require.NoError(t, err)
	assert.Equal(t, Temporal{Address: "ns.tmprl.cloud:7233", Namespace: "ns", APIKey: "k",
		TLSCert: "c.pem", TLSKey: "k.pem", TLSCA: "ca.pem", Compression: "gzip", PayloadCompression: "on"}, got)

	_, err = LoadTemporal(ctx, envconfig.MapLookuper(map[string]string{"TEMPORAL_TLS_CERT": "c.pem"}))
	assert.EqualError(t, err, "TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together")
	_, err = LoadTemporal(ctx, envconfig.MapLookuper(map[string]string{"TEMPORAL_GRPC_COMPRESSION": "zstd"}))
	assert.EqualError(t, err, `TEMPORAL_GRPC_COMPRESSION: want gzip or none (got "zstd")`)
	_, err = LoadTemporal(ctx, envconfig.MapLookuper(map[string]string{"FOUREYES_PAYLOAD_COMPRESSION": "false"}))
	assert.EqualError(t, err, `FOUREYES_PAYLOAD_COMPRESSION: want on or off (got "false")`)
}

// FOUREYES_PAYLOAD_COMPRESSION=off seals json/plain data as it is (code
// 1); on, the default, deflated; either codec opens both.
func TestPayloadCompressionSwitch(t *testing.T) {
	key, err := codec.WriteKeyFile(t.TempDir(), "payload-1")
	require.NoError(t, err)
	p, err := converter.GetDefaultDataConverter().ToPayload(strings.Repeat(`{"gate":"review"}`, 20))
	require.NoError(t, err)
	sizes := map[string]int{}
	var sealed []*commonpb.Payload
	for _, v := range []string{"", "on", "off"} {
		env := map[string]string{"FOUREYES_PAYLOAD_KEY_FILE": key}
		if v != "" {
			env["FOUREYES_PAYLOAD_COMPRESSION"] = v
		}
		tc, err := LoadTemporal(context.Background(), envconfig.MapLookuper(env))
		require.NoError(t, err)
		c, err := tc.Codec()
		require.NoError(t, err)
		enc, err := c.Encode([]*commonpb.Payload{p})
		require.NoError(t, err)
		sizes[v] = len(enc[0].Data)
		sealed = append(sealed, enc[0])
	}
	assert.Equal(t, sizes[""], sizes["on"])
	assert.Less(t, sizes["on"], sizes["off"]/4, "on deflates")
	assert.Greater(t, sizes["off"], len(p.Data), "off seals the data as it is")
	off, err := Temporal{PayloadKeyFile: key, PayloadCompression: "off"}.Codec()
	require.NoError(t, err)
	_, err = off.Decode(sealed)
	require.NoError(t, err, "off opens deflated payloads")
}

func TestClientOptionsCompression(t *testing.T) {
	opts, err := Temporal{Compression: "none"}.ClientOptions("id", nil)
	require.NoError(t, err)
	assert.IsType(t, &client.GrpcCompressionNone{}, opts.ConnectionOptions.GrpcCompression)
	opts, err = Temporal{Compression: "gzip"}.ClientOptions("id", nil)
	require.NoError(t, err)
	assert.Nil(t, opts.ConnectionOptions.GrpcCompression, "the SDK's default: gzip")
}

func TestClientOptionsPlain(t *testing.T) {
	opts, err := Temporal{Address: "localhost:7233", Namespace: "default"}.ClientOptions("foureyes-build@h", nil)
	require.NoError(t, err)
	assert.Equal(t, "localhost:7233", opts.HostPort)
	assert.Equal(t, "default", opts.Namespace)
	assert.Equal(t, "foureyes-build@h", opts.Identity)
	assert.NotNil(t, opts.Logger)
	assert.Nil(t, opts.Credentials)
	assert.Nil(t, opts.ConnectionOptions.TLS)
}

func TestClientOptionsAPIKey(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	opts, err := Temporal{Address: "ns.tmprl.cloud:7233", Namespace: "ns", APIKey: "key"}.ClientOptions("id", logger)
	require.NoError(t, err)
	assert.NotNil(t, opts.Credentials)
	require.NotNil(t, opts.ConnectionOptions.TLS)
	assert.Empty(t, opts.ConnectionOptions.TLS.Certificates)

	opts.Logger.Info("hello", "k", "v")
	assert.Contains(t, buf.String(), `"msg":"hello"`, "the SDK logs through our slog logger")
}

func TestClientOptionsMTLS(t *testing.T) {
	cert, key := writeCert(t)
	opts, err := Temporal{TLSCert: cert, TLSKey: key, TLSCA: cert}.ClientOptions("id", nil)
	require.NoError(t, err)
	require.NotNil(t, opts.ConnectionOptions.TLS)
	assert.Len(t, opts.ConnectionOptions.TLS.Certificates, 1)
	assert.NotNil(t, opts.ConnectionOptions.TLS.RootCAs)
	assert.Nil(t, opts.Credentials)
}

func TestClientOptionsFileErrors(t *testing.T) {
	cert, key := writeCert(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	tests := []struct {
		name string
		t    Temporal
		want []string
	}{
		{"missing cert", Temporal{TLSCert: missing, TLSKey: key}, []string{"TEMPORAL_TLS_CERT", missing}},
		{"missing key", Temporal{TLSCert: cert, TLSKey: missing}, []string{"TEMPORAL_TLS_KEY", missing}},
		{"cert without key", Temporal{TLSCert: cert}, []string{"TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together"}},
		{"missing CA", Temporal{APIKey: "k", TLSCA: missing}, []string{"TEMPORAL_TLS_CA", missing}},
		{"CA not PEM", Temporal{TLSCA: notPEM}, []string{"TEMPORAL_TLS_CA: no PEM certificate in " + notPEM}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.t.ClientOptions("id", nil)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// writeCert writes a self-signed certificate and its key to a temp dir.
func writeCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "foureyes-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(priv)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}

func TestLoadLogging(t *testing.T) {
	ctx := context.Background()
	got, err := LoadLogging(ctx, envconfig.MapLookuper(nil))
	require.NoError(t, err)
	assert.Equal(t, Logging{Format: "text", Level: "info"}, got)

	got, err = LoadLogging(ctx, envconfig.MapLookuper(map[string]string{"FOUREYES_LOG_FORMAT": "json", "FOUREYES_LOG_LEVEL": "debug"}))
	require.NoError(t, err)
	assert.Equal(t, Logging{Format: "json", Level: "debug"}, got)

	_, err = LoadLogging(ctx, envconfig.MapLookuper(map[string]string{"FOUREYES_LOG_LEVEL": "verbose"}))
	assert.EqualError(t, err, `FOUREYES_LOG_LEVEL: unknown level "verbose" (want debug, info, warn or error)`)
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		name    string
		l       Logging
		check   func(t *testing.T, out string)
		wantErr string
	}{
		{name: "text", l: Logging{Format: "text", Level: "info"}, check: func(t *testing.T, out string) {
			assert.Contains(t, out, `level=INFO msg=shown k=v`)
			assert.NotContains(t, out, "hidden")
		}},
		{name: "defaults", l: Logging{}, check: func(t *testing.T, out string) {
			assert.Contains(t, out, `level=INFO msg=shown`)
			assert.NotContains(t, out, "hidden")
		}},
		{name: "json debug", l: Logging{Format: "JSON", Level: "debug"}, check: func(t *testing.T, out string) {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			require.Len(t, lines, 2)
			var rec map[string]any
			require.NoError(t, json.Unmarshal([]byte(lines[1]), &rec))
			assert.Equal(t, "shown", rec["msg"])
			assert.Equal(t, "v", rec["k"])
		}},
		{name: "error level", l: Logging{Level: "error"}, check: func(t *testing.T, out string) {
			assert.Empty(t, out)
		}},
		{name: "bad format", l: Logging{Format: "xml"}, wantErr: `FOUREYES_LOG_FORMAT: unknown format "xml" (want text or json)`},
		{name: "bad level", l: Logging{Level: "loud"}, wantErr: `FOUREYES_LOG_LEVEL: unknown level "loud" (want debug, info, warn or error)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger, err := NewLogger(&buf, tt.l)
			if tt.wantErr != "" {
				assert.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			logger.Debug("hidden")
			logger.Info("shown", "k", "v")
			tt.check(t, buf.String())
		})
	}
}

func TestLoadTemporalAPIKeyFile(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "build.key")
	require.NoError(t, os.WriteFile(file, []byte("secret-key\n"), 0o600))
	got, err := LoadTemporal(ctx, envconfig.MapLookuper(map[string]string{"TEMPORAL_API_KEY_FILE": file}))
	require.NoError(t, err)
	assert.Equal(t, "secret-key", got.APIKey, "the key, without its newline")

	_, err = LoadTemporal(ctx, envconfig.MapLookuper(map[string]string{"TEMPORAL_API_KEY_FILE": file, "TEMPORAL_API_KEY": "k"}))
	assert.EqualError(t, err, "TEMPORAL_API_KEY and TEMPORAL_API_KEY_FILE: set one, not both")
	_, err = LoadTemporal(ctx, envconfig.MapLookuper(map[string]string{"TEMPORAL_API_KEY_FILE": file + ".missing"}))
	assert.ErrorContains(t, err, "TEMPORAL_API_KEY_FILE: open "+file+".missing")
	empty := filepath.Join(t.TempDir(), "empty.key")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	_, err = LoadTemporal(ctx, envconfig.MapLookuper(map[string]string{"TEMPORAL_API_KEY_FILE": empty}))
	assert.EqualError(t, err, "TEMPORAL_API_KEY_FILE: "+empty+" is empty")
}

// TestClientOptionsTracing: once the process traces, every client (and so
// every worker made from it) gets the OpenTelemetry interceptor; before,
// none.
func TestClientOptionsTracing(t *testing.T) {
	opts, err := Temporal{}.ClientOptions("id", nil)
	require.NoError(t, err)
	require.Empty(t, opts.Interceptors)

	stop, err := tracing.Start(context.Background(), tracing.Settings{File: filepath.Join(t.TempDir(), "t.jsonl")}, "test")
	require.NoError(t, err)
	defer stop(context.Background())
	opts, err = Temporal{}.ClientOptions("id", nil)
	require.NoError(t, err)
	require.Len(t, opts.Interceptors, 1)
}
