package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/reflexops/reflex/metrics"
)

// metricsListenUsage is the help of --metrics-listen.
const metricsListenUsage = "serve GET /metrics on this address, without authentication: bind it to an internal address only Prometheus reaches (default: none)"

// addMetricsFlag adds --metrics-listen (REFLEX_METRICS_LISTEN) to fl.
func addMetricsFlag(fl *pflag.FlagSet, addr *string) {
	fl.StringVar(addr, "metrics-listen", "", metricsListenUsage)
	envFlag(fl, "metrics-listen", "REFLEX_METRICS_LISTEN")
}

// serveMetrics binds addr and serves a new registry's metrics there until
// ctx ends; wait returns once it stopped. An empty addr serves nothing
// and returns a nil registry.
func serveMetrics(ctx context.Context, addr string, log *slog.Logger) (reg *prometheus.Registry, wait func(), err error) {
	if addr == "" {
		return nil, func() {}, nil
	}
	ln, err := metrics.Listen(addr)
	if err != nil {
		return nil, nil, err
	}
	reg = metrics.NewRegistry()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := metrics.Serve(ctx, ln, reg, log); err != nil {
			log.Error("the metrics listener stopped", "error", err)
		}
	}()
	return reg, func() { <-done }, nil
}
