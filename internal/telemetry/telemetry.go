package telemetry

import (
	"context"
	"errors"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Config says what the process is called, whether anyone reads its
// metrics and, for tests, where spans go.
type Config struct {
	// ServiceName is the service.name of spans and of Prometheus's
	// target_info, unless OTEL_SERVICE_NAME says otherwise.
	ServiceName string
	// Metrics turns metrics on. Off, nothing is measured: with nowhere to
	// serve them (tasksd without DEBUG_ADDR) they would be work for
	// nobody.
	Metrics bool
	// Spans, when not nil, receives each span as it ends, in place of the
	// OTLP exporter the environment asks for: tests pass
	// tracetest.NewInMemoryExporter().
	Spans sdktrace.SpanExporter
}

// Telemetry is one process's metrics and tracing. Build it once with New and
// Shutdown it last, after the server has stopped, so the last spans are
// sent.
type Telemetry struct {
	// Meter makes the instruments that Handler serves; nil when metrics
	// are off.
	Meter metric.MeterProvider
	// Tracer makes spans that are exported; nil when nothing would export
	// them, so instrumentation can skip tracing altogether rather than make
	// spans nobody sees.
	Tracer trace.TracerProvider

	metrics  http.Handler
	shutdown []func(context.Context) error
}

// New sets up metrics, when c.Metrics, and tracing, when the OTEL_*
// environment variables ask for it (see tracing.go) or c.Spans is set.
func New(ctx context.Context, c Config) (*Telemetry, error) {
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", c.ServiceName)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, err
	}
	t := &Telemetry{}
	if c.Metrics {
		mp, handler, err := newMetrics(res)
		if err != nil {
			return nil, err
		}
		t.Meter, t.metrics = mp, handler
		t.shutdown = append(t.shutdown, mp.Shutdown)
	}

	tp, err := newTracing(ctx, res, c.Spans)
	if err != nil {
		_ = t.Shutdown(ctx)
		return nil, err
	}
	if tp != nil {
		t.Tracer = tp
		t.shutdown = append(t.shutdown, tp.Shutdown)
	}
	return t, nil
}

// Handler serves every metric in Prometheus's text format: the
// instruments made with Meter, plus the Go runtime's and the process's.
// Serve it on a private listener, never the API's. Without metrics it
// answers 404.
func (t *Telemetry) Handler() http.Handler {
	if t.metrics == nil {
		return http.NotFoundHandler()
	}
	return t.metrics
}

// Shutdown sends the spans not yet exported and stops both providers;
// ctx bounds how long it waits for the collector.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	for i := len(t.shutdown) - 1; i >= 0; i-- {
		errs = append(errs, t.shutdown[i](ctx))
	}
	return errors.Join(errs...)
}
