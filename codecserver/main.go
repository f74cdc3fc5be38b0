// Command codecserver is foureyes' codec server: it decrypts release
// payloads for the Temporal Web UI (codec.endpoint) and the Temporal CLI
// (--codec-endpoint, --codec-auth), for readers only, and logs every
// decode. It holds the payload keys and nothing else: no Temporal
// credential, no signing key.
//
//	FOUREYES_PAYLOAD_KEY_FILE, FOUREYES_PAYLOAD_OLD_KEY_FILES  the key ring
//	FOUREYES_CODEC_READERS_FILE   temporal-server's authorization config
//	FOUREYES_CODEC_READER_ROLES   its roles whose identities may read (operator)
//	FOUREYES_CODEC_LISTEN         127.0.0.1:8234
//	FOUREYES_CODEC_UI_ORIGIN      the Web UI's origin, the only one CORS allows
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/foureyes/foureyes/codec"
	"github.com/foureyes/foureyes/config"
	"github.com/foureyes/foureyes/formats/authzconfig"
)

type settings struct {
	KeyFile     string   `env:"FOUREYES_PAYLOAD_KEY_FILE, required"`
	OldKeyFiles []string `env:"FOUREYES_PAYLOAD_OLD_KEY_FILES"`
	Compression string   `env:"FOUREYES_PAYLOAD_COMPRESSION, default=on"` // for the UI's encode endpoint
	ReadersFile string   `env:"FOUREYES_CODEC_READERS_FILE, required"`
	ReaderRoles []string `env:"FOUREYES_CODEC_READER_ROLES, default=operator"`
	Listen      string   `env:"FOUREYES_CODEC_LISTEN, default=127.0.0.1:8234"`
	UIOrigin    string   `env:"FOUREYES_CODEC_UI_ORIGIN, default=http://localhost:8233"`
	config.Logging
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, envconfig.OsLookuper(), os.Stderr))
}

func run(ctx context.Context, l envconfig.Lookuper, stderr io.Writer) int {
	srv, listen, err := setup(ctx, l, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "codecserver: %v\n", err)
		return 2
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintf(stderr, "codecserver: %v\n", err)
		return 1
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = hs.Shutdown(context.Background()) }()
	srv.Log().Info("codec server listening", "addr", ln.Addr().String(), "active_key", srv.ActiveKeyID())
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "codecserver: %v\n", err)
		return 1
	}
	return 0
}

// setup reads everything before listening, so that mistakes exit 2.
func setup(ctx context.Context, l envconfig.Lookuper, stderr io.Writer) (*codec.Server, string, error) {
	var s settings
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &s, Lookuper: l}); err != nil {
		return nil, "", err
	}
	logger, err := config.NewLogger(stderr, s.Logging)
	if err != nil {
		return nil, "", err
	}
	ring, err := codec.LoadKeyRing(s.KeyFile, s.OldKeyFiles)
	if err != nil {
		return nil, "", fmt.Errorf("FOUREYES_PAYLOAD_KEY_FILE: %w", err)
	}
	if err := config.CheckPayloadCompression(s.Compression); err != nil {
		return nil, "", err
	}
	readers, err := loadReaders(s.ReadersFile, s.ReaderRoles)
	if err != nil {
		return nil, "", err
	}
	return codec.NewServer(codec.ServerOptions{Codec: codec.New(ring, codec.Compression(s.Compression != "off")), Readers: readers,
		UIOrigin: s.UIOrigin, Log: logger.With("component", "codecserver")}), s.Listen, nil
}

// loadReaders takes the identities of roles from the server's config: the
// same API key that lets an operator read workflows lets them read payloads.
func loadReaders(file string, roles []string) (codec.Readers, error) {
	cfg, err := authzconfig.Load(file)
	if err != nil {
		return nil, fmt.Errorf("FOUREYES_CODEC_READERS_FILE: %w", err)
	}
	r := codec.Readers{}
	for _, id := range cfg.Identities {
		if slices.Contains(roles, id.Role) && id.APIKeySHA256 != "" {
			if err := r.Add(id.Name, id.APIKeySHA256); err != nil {
				return nil, fmt.Errorf("FOUREYES_CODEC_READERS_FILE %s: %w", file, err)
			}
		}
	}
	if len(r) == 0 {
		return nil, fmt.Errorf("FOUREYES_CODEC_READERS_FILE %s: no identity with an API key has role %v: nobody could read", file, roles)
	}
	return r, nil
}
