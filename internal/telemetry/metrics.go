package telemetry

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// newMetrics returns a meter provider whose instruments are read, when
// Prometheus scrapes the returned handler, from a registry of this
// provider's own: several servers in one process (the tests) keep their
// numbers apart, and nothing is registered globally.
//
// OpenTelemetry's instruments rather than client_golang's, because the
// libraries that measure calls and queries (otelconnect, bunotel) speak
// OpenTelemetry; Prometheus is only how they are read. Instrument names
// become Prometheus names the usual way: "rpc.server.call.duration" in
// seconds is rpc_server_call_duration_seconds, a counter gains _total.
func newMetrics(res *resource.Resource) (*sdkmetric.MeterProvider, http.Handler, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, nil, err
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, nil, err
	}
	exporter, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		// The otel_scope_* labels would only say which library made a
		// metric, which its name says already.
		otelprom.WithoutScopeInfo(),
	)
	if err != nil {
		return nil, nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithResource(res))
	return mp, promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}), nil
}
