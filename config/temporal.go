package config

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/sethvargo/go-envconfig"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/foureyes/foureyes/codec"
	"github.com/foureyes/foureyes/tracing"
)

// Temporal is how every process reaches the Temporal service (TEMPORAL_*).
type Temporal struct {
	Address   string `env:"TEMPORAL_ADDRESS, default=localhost:7233"`
	Namespace string `env:"TEMPORAL_NAMESPACE, default=default"`
	APIKey    string `env:"TEMPORAL_API_KEY"`
	// APIKeyFile holds the API key instead (kept out of /proc/*/environ);
	// set one of the two.
	APIKeyFile string `env:"TEMPORAL_API_KEY_FILE"`
	TLSCert    string `env:"TEMPORAL_TLS_CERT"` // client certificate file (mTLS)
	TLSKey     string `env:"TEMPORAL_TLS_KEY"`  // its private key file
	TLSCA      string `env:"TEMPORAL_TLS_CA"`   // CA bundle file for the server
	// Compression of gRPC requests: gzip (the SDK's default, for a distant
	// server) or none (a server on the same host or network: gzip only
	// costs CPU on both sides; docs/benchmarks.md).
	Compression string `env:"TEMPORAL_GRPC_COMPRESSION, default=gzip"`
	// PayloadKeyFile is the active AES-256 key that encrypts every payload
	// this process writes (codec.ReadKeyFile: ID.key, base64); the key
	// itself never enters Temporal or a log, only its id does.
	PayloadKeyFile string `env:"FOUREYES_PAYLOAD_KEY_FILE"`
	// PayloadOldKeyFiles are keys that only decrypt: what was written before
	// a rotation (comma-separated; docs/security.md, "Payload encryption").
	PayloadOldKeyFiles []string `env:"FOUREYES_PAYLOAD_OLD_KEY_FILES"`
	// PayloadCompression: on deflates json/plain payload data before
	// sealing (codec content code 6), off does not; either opens both. Off
	// while a process that decodes still runs older code (docs/operators.md,
	// "Payload compression"). "" (a Temporal built in code) is on.
	PayloadCompression string `env:"FOUREYES_PAYLOAD_COMPRESSION, default=on"`
}

// LoadTemporal reads the TEMPORAL_* variables.
func LoadTemporal(ctx context.Context, l envconfig.Lookuper) (Temporal, error) {
	var t Temporal
	if err := decode(ctx, &t, "", l); err != nil {
		return Temporal{}, err
	}
	if (t.TLSCert == "") != (t.TLSKey == "") {
		return Temporal{}, errors.New("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together")
	}
	if t.Compression != "gzip" && t.Compression != "none" {
		return Temporal{}, fmt.Errorf("TEMPORAL_GRPC_COMPRESSION: want gzip or none (got %q)", t.Compression)
	}
	if err := CheckPayloadCompression(t.PayloadCompression); err != nil {
		return Temporal{}, err
	}
	if err := t.readAPIKeyFile(); err != nil {
		return Temporal{}, err
	}
	if len(t.PayloadOldKeyFiles) > 0 && t.PayloadKeyFile == "" {
		return Temporal{}, errors.New("FOUREYES_PAYLOAD_OLD_KEY_FILES needs FOUREYES_PAYLOAD_KEY_FILE, the active key")
	}
	if _, err := t.Codec(); err != nil {
		return Temporal{}, err
	}
	return t, nil
}

// Codec is the payload codec of t's key files, nil when no key is set
// (payloads in plaintext).
func (t Temporal) Codec() (*codec.Codec, error) {
	if t.PayloadKeyFile == "" {
		return nil, nil
	}
	ring, err := codec.LoadKeyRing(t.PayloadKeyFile, t.PayloadOldKeyFiles)
	if err != nil {
		return nil, fmt.Errorf("FOUREYES_PAYLOAD_KEY_FILE: %w", err)
	}
	return codec.New(ring, codec.Compression(t.PayloadCompression != "off")), nil
}

// CheckPayloadCompression: FOUREYES_PAYLOAD_COMPRESSION is on or off.
func CheckPayloadCompression(v string) error {
	if v != "on" && v != "off" {
		return fmt.Errorf("FOUREYES_PAYLOAD_COMPRESSION: want on or off (got %q)", v)
	}
	return nil
}

// DataConverter is what payloads pass through: encrypted with t's key
// ring, or the SDK's default without one.
func (t Temporal) DataConverter() (converter.DataConverter, error) {
	c, err := t.Codec()
	if err != nil || c == nil {
		return converter.GetDefaultDataConverter(), err
	}
	return c.DataConverter(), nil
}

// readAPIKeyFile moves the key of TEMPORAL_API_KEY_FILE into APIKey.
func (t *Temporal) readAPIKeyFile() error {
	if t.APIKeyFile == "" {
		return nil
	}
	if t.APIKey != "" {
		return errors.New("TEMPORAL_API_KEY and TEMPORAL_API_KEY_FILE: set one, not both")
	}
	b, err := os.ReadFile(t.APIKeyFile)
	if err != nil {
		return fmt.Errorf("TEMPORAL_API_KEY_FILE: %w", err)
	}
	if t.APIKey = strings.TrimSpace(string(b)); t.APIKey == "" {
		return fmt.Errorf("TEMPORAL_API_KEY_FILE: %s is empty", t.APIKeyFile)
	}
	t.APIKeyFile = "" // read: the key is in APIKey now
	return nil
}

// ClientOptions returns client options for t: address, namespace, identity
// and logger (slog.Default() if nil); an API key turns on TLS, a cert and key
// pair turns on mTLS, a CA file sets the trusted roots, a payload key
// encrypts every payload and failure message (codec), and once the process
// started tracing (tracing.Start) the OpenTelemetry interceptor traces every
// call and, on a worker made from the client, every workflow, update and
// activity. Errors name the file.
func (t Temporal) ClientOptions(identity string, logger *slog.Logger) (client.Options, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if err := t.readAPIKeyFile(); err != nil {
		return client.Options{}, err
	}
	opts := client.Options{
		HostPort:  t.Address,
		Namespace: t.Namespace,
		Identity:  identity,
		Logger:    log.NewStructuredLogger(logger),
	}
	cfg, err := t.tlsConfig()
	if err != nil {
		return client.Options{}, err
	}
	opts.ConnectionOptions.TLS = cfg
	if opts.DataConverter, err = t.DataConverter(); err != nil {
		return client.Options{}, err
	}
	if t.PayloadKeyFile != "" {
		// A failure's message and stack trace go into its encoded (so
		// encrypted) attributes: they can quote commits and comments.
		opts.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
			DataConverter: opts.DataConverter, EncodeCommonAttributes: true})
	}
	if opts.Interceptors, err = tracing.Interceptors(); err != nil {
		return client.Options{}, err
	}
	if t.Compression == "none" {
		opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	}
	if t.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(t.APIKey)
	}
	return opts, nil
}

// tlsConfig is nil (plaintext) unless an API key, certificate or CA is set.
func (t Temporal) tlsConfig() (*tls.Config, error) {
	if t.APIKey == "" && t.TLSCert == "" && t.TLSKey == "" && t.TLSCA == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.TLSCert != "" || t.TLSKey != "" {
		if t.TLSCert == "" || t.TLSKey == "" {
			return nil, errors.New("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together")
		}
		cert, err := tls.LoadX509KeyPair(t.TLSCert, t.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: load %s and %s: %w", t.TLSCert, t.TLSKey, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if t.TLSCA != "" {
		pem, err := os.ReadFile(t.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA: no PEM certificate in %s", t.TLSCA)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
