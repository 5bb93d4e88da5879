package service

import (
	"context"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/example/tasks"
)

// TelemetryConfig says where the TaskService reports.
type TelemetryConfig struct {
	// Meter gets the metrics; nil: none.
	Meter metric.MeterProvider
	// Tracer gets a span per call; nil: no spans, and no tracing work per
	// call either.
	Tracer trace.TracerProvider
	// Watches, when not nil, has its open watches reported.
	Watches *WatchHub
}

// Telemetry reports what the TaskService does, through OpenTelemetry:
// a span and a duration per call by procedure and code (otelconnect), the
// calls being served, the calls refused before they were served (Refused),
// the open watches and how late watches deliver changes. Build it once per
// process with NewTelemetry and hand it to Config and LimitInFlight. A nil
// *Telemetry reports nothing.
type Telemetry struct {
	rpc      *otelconnect.Interceptor
	inFlight atomic.Int64
	refused  metric.Int64Counter
	watchLag metric.Float64Histogram
	gauges   metric.Registration
}

// callDurationBuckets (seconds) are finer than OpenTelemetry's defaults at
// the bottom, where this service's calls are: a GetTask takes about a
// millisecond, and a p99 read from 5 ms buckets would say little. Watches
// fall in the last bucket.
var callDurationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// NewTelemetry makes the instruments. Close it to stop reporting the
// gauges. With neither a meter nor a tracer, calls go without otelconnect,
// at no cost.
func NewTelemetry(c TelemetryConfig) (*Telemetry, error) {
	t := &Telemetry{}
	var err error
	if c.Meter != nil || c.Tracer != nil {
		if t.rpc, err = newRPCInterceptor(c.Meter, c.Tracer); err != nil {
			return nil, err
		}
	}
	meterProvider := c.Meter
	if meterProvider == nil {
		meterProvider = noop.NewMeterProvider()
	}
	meter := meterProvider.Meter("github.com/example/tasks/service")
	if t.refused, err = meter.Int64Counter("tasks.calls.refused", metric.WithUnit("{call}"),
		metric.WithDescription("TaskService calls answered without being served, by reason: shed (MAX_IN_FLIGHT), rate_limited")); err != nil {
		return nil, err
	}
	if t.watchLag, err = meter.Float64Histogram("tasks.watch.delivery.lag", metric.WithUnit("s"),
		metric.WithDescription("From a task's change (its update_time) to a watch sending it"),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)); err != nil {
		return nil, err
	}
	inFlight, err := meter.Int64ObservableGauge("tasks.calls.in_flight", metric.WithUnit("{call}"),
		metric.WithDescription("TaskService unary calls being served"))
	if err != nil {
		return nil, err
	}
	open, err := meter.Int64ObservableGauge("tasks.watches.open", metric.WithUnit("{watch}"),
		metric.WithDescription("Open WatchTasks streams"))
	if err != nil {
		return nil, err
	}
	for _, why := range refusals() {
		t.refused.Add(context.Background(), 0, why.attribute())
	}
	t.gauges, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(inFlight, t.inFlight.Load())
		if c.Watches != nil {
			o.ObserveInt64(open, int64(c.Watches.Open()))
		}
		return nil
	}, inFlight, open)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// newRPCInterceptor returns otelconnect's interceptor, reporting to mp
// and tp where they are not nil.
func newRPCInterceptor(mp metric.MeterProvider, tp trace.TracerProvider) (*otelconnect.Interceptor, error) {
	opts := []otelconnect.Option{
		otelconnect.WithDurationHistogramOptions(metric.WithExplicitBucketBoundaries(callDurationBuckets...)),
	}
	if mp != nil {
		opts = append(opts, otelconnect.WithMeterProvider(mp))
	} else {
		opts = append(opts, otelconnect.WithoutMetrics())
	}
	if tp != nil {
		// W3C traceparent only, and (otelconnect's default) a caller's
		// trace is linked, not continued: the API is public, and a client
		// should not pick the server's trace ids or sampling.
		opts = append(opts, otelconnect.WithTracerProvider(tp), otelconnect.WithPropagator(propagation.TraceContext{}))
	} else {
		opts = append(opts, otelconnect.WithoutTracing(), otelconnect.WithPropagator(propagation.NewCompositeTextMapPropagator()))
	}
	return otelconnect.NewInterceptor(opts...)
}

// Close stops reporting the gauges.
func (t *Telemetry) Close() error {
	if t == nil {
		return nil
	}
	return t.gauges.Unregister()
}

// watchDelivered records how late a watch sends changes: the time since
// each changed task's update_time, which the writer stamped just before it
// wrote. Deletions carry no time and are not counted.
func (t *Telemetry) watchDelivered(ctx context.Context, changes []tasks.TaskChange) {
	if t == nil {
		return
	}
	now := time.Now()
	for _, c := range changes {
		if c.Task != nil {
			// Another replica's clock may run a little ahead.
			t.watchLag.Record(ctx, max(now.Sub(c.Task.UpdateTime), 0).Seconds())
		}
	}
}

// interceptors are the ones Telemetry adds to every call, outermost first:
// otelconnect's span and duration, then the count of calls in flight.
func (t *Telemetry) interceptors() []connect.Interceptor {
	if t == nil {
		return nil
	}
	var out []connect.Interceptor
	if t.rpc != nil {
		out = append(out, t.rpc)
	}
	return append(out, connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			t.inFlight.Add(1)
			defer t.inFlight.Add(-1)
			return next(ctx, req)
		}
	}))
}
