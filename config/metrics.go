package config

import (
	"context"

	"github.com/sethvargo/go-envconfig"
)

// Metrics is where a role serves Prometheus metrics
// (FOUREYES_<ROLE>_METRICS_LISTEN, e.g. 127.0.0.1:9464); empty = no endpoint.
type Metrics struct {
	Listen string `env:"METRICS_LISTEN"`
}

// LoadMetrics reads the role's metrics settings.
func LoadMetrics(ctx context.Context, role string, l envconfig.Lookuper) (Metrics, error) {
	var m Metrics
	if err := checkRole(role); err != nil {
		return m, err
	}
	err := decode(ctx, &m, Prefix(role), l)
	return m, err
}
