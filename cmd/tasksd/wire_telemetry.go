package main

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/example/tasks/auth"
	"github.com/example/tasks/internal/telemetry"
)

// telemetryFlushTimeout bounds how long the last spans may take to reach
// the collector at shutdown.
const telemetryFlushTimeout = 5 * time.Second

// newTelemetry sets up metrics when DEBUG_ADDR is there to serve them
// (/metrics) and, when the OTEL_EXPORTER_OTLP_* variables say where to,
// trace export.
func newTelemetry(ctx context.Context, cfg config) (*telemetry.Telemetry, error) {
	return telemetry.New(ctx, telemetry.Config{ServiceName: "tasksd", Metrics: cfg.DebugAddr != "", Spans: cfg.spans})
}

// reportServer reports what only the wiring sees: whether the server is
// ready (its database answers), and what the token verifier has done. The
// returned func stops reporting.
func reportServer(mp metric.MeterProvider, health *healthMonitor, verifier *auth.Verifier) (func(), error) {
	if mp == nil {
		return func() {}, nil
	}
	meter := mp.Meter("github.com/example/tasks/cmd/tasksd")
	ready, err := meter.Int64ObservableGauge("tasks.ready",
		metric.WithDescription("1 while the database answers (as /readyz), else 0"))
	if err != nil {
		return nil, err
	}
	fetches, err := meter.Int64ObservableCounter("tasks.auth.jwks.fetches", metric.WithUnit("{fetch}"),
		metric.WithDescription("JWKS fetches (start, refresh, unknown kid), by result: ok or error"))
	if err != nil {
		return nil, err
	}
	lookups, err := meter.Int64ObservableCounter("tasks.auth.token_cache.lookups", metric.WithUnit("{lookup}"),
		metric.WithDescription("Verified-token cache lookups, by result: hit (no signature check) or miss"))
	if err != nil {
		return nil, err
	}
	var (
		ok     = metric.WithAttributes(attribute.String("result", "ok"))
		failed = metric.WithAttributes(attribute.String("result", "error"))
		hit    = metric.WithAttributes(attribute.String("result", "hit"))
		miss   = metric.WithAttributes(attribute.String("result", "miss"))
	)
	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		up := int64(0)
		if health.ready() {
			up = 1
		}
		o.ObserveInt64(ready, up)
		s := verifier.Stats()
		o.ObserveInt64(fetches, int64(s.JWKSFetches), ok)
		o.ObserveInt64(fetches, int64(s.JWKSFetchFailures), failed)
		o.ObserveInt64(lookups, int64(s.TokenCacheHits), hit)
		o.ObserveInt64(lookups, int64(s.TokenCacheMisses), miss)
		return nil
	}, ready, fetches, lookups)
	if err != nil {
		return nil, err
	}
	return func() { _ = reg.Unregister() }, nil
}
