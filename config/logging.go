package config

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/sethvargo/go-envconfig"

	"github.com/foureyes/foureyes/tracing"
)

// Logging selects the slog handler (FOUREYES_LOG_*).
type Logging struct {
	Format string `env:"FOUREYES_LOG_FORMAT, default=text"` // text or json
	Level  string `env:"FOUREYES_LOG_LEVEL, default=info"`  // debug, info, warn or error
}

var levels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

// LoadLogging reads and checks the FOUREYES_LOG_* variables.
func LoadLogging(ctx context.Context, l envconfig.Lookuper) (Logging, error) {
	var lg Logging
	if err := decode(ctx, &lg, "", l); err != nil {
		return Logging{}, err
	}
	if _, err := NewLogger(io.Discard, lg); err != nil {
		return Logging{}, err
	}
	return lg, nil
}

// NewLogger returns a text or JSON slog logger writing to w. Empty fields
// take the defaults (text, info); names are case-insensitive. A line logged
// with a context that holds a span carries its TraceID and SpanID.
func NewLogger(w io.Writer, l Logging) (*slog.Logger, error) {
	name := strings.ToLower(l.Level)
	if name == "" {
		name = "info"
	}
	level, ok := levels[name]
	if !ok {
		return nil, fmt.Errorf("FOUREYES_LOG_LEVEL: unknown level %q (want debug, info, warn or error)", l.Level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(l.Format) {
	case "", "text":
		return slog.New(tracing.LogHandler(slog.NewTextHandler(w, opts))), nil
	case "json":
		return slog.New(tracing.LogHandler(slog.NewJSONHandler(w, opts))), nil
	default:
		return nil, fmt.Errorf("FOUREYES_LOG_FORMAT: unknown format %q (want text or json)", l.Format)
	}
}
