package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/example/tasks/internal/telemetry/telemetrytest"
)

// otelVars are the variables that decide on tracing; each test sets all
// of them, so the environment the tests run in does not leak in.
var otelVars = []string{
	"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
	"OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
}

// setEnv sets every one of otelVars: to its value in env, else empty.
func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range otelVars {
		t.Setenv(k, env[k])
	}
}

func mustNew(t *testing.T) *Telemetry {
	t.Helper()
	tel, err := New(context.Background(), Config{ServiceName: "telemetry-test", Metrics: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tel.Shutdown(context.Background()) })
	return tel
}

// TestMetricsHandler: what is counted with Meter is served in Prometheus's
// format under its Prometheus name, beside the Go runtime's and the
// process's metrics and the service's name.
func TestMetricsHandler(t *testing.T) {
	setEnv(t, nil)
	tel := mustNew(t)
	c, err := tel.Meter.Meter("test").Int64Counter("test.things", metric.WithUnit("{thing}"))
	if err != nil {
		t.Fatal(err)
	}
	c.Add(context.Background(), 2, metric.WithAttributes(attribute.String("kind", "a")))
	c.Add(context.Background(), 3, metric.WithAttributes(attribute.String("kind", "a")))
	m := telemetrytest.ScrapeHandler(t, tel.Handler())
	if got := m.Value("test_things_total", "kind", "a"); got != 5 {
		t.Errorf("test_things_total{kind=a}: %v, want 5", got)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_open_fds"} {
		if !m.Has(name) {
			t.Errorf("no %s", name)
		}
	}
	if !m.Has("target_info", "service_name", "telemetry-test") {
		t.Errorf("target_info lacks service_name=telemetry-test")
	}
}

// TestMetricsOff: without Metrics there is no meter to measure with, and
// the handler serves nothing.
func TestMetricsOff(t *testing.T) {
	setEnv(t, nil)
	tel, err := New(context.Background(), Config{ServiceName: "telemetry-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	if tel.Meter != nil {
		t.Error("a meter with metrics off")
	}
	rec := httptest.NewRecorder()
	tel.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("/metrics with metrics off: %d", rec.Code)
	}
}

// TestServiceNameFromEnv: OTEL_SERVICE_NAME wins over the built-in name.
func TestServiceNameFromEnv(t *testing.T) {
	setEnv(t, map[string]string{"OTEL_SERVICE_NAME": "tasks-eu-1"})
	m := telemetrytest.ScrapeHandler(t, mustNew(t).Handler())
	if !m.Has("target_info", "service_name", "tasks-eu-1") {
		t.Errorf("target_info lacks service_name=tasks-eu-1")
	}
}

// TestTracingFromEnv: spans are made and exported only when the standard
// variables say where to, over the protocol they name; otherwise there is
// no tracer at all.
func TestTracingFromEnv(t *testing.T) {
	type want int
	const (
		off want = iota
		exported
		refused // New fails
	)
	tests := []struct {
		name      string
		collector func(testing.TB) *telemetrytest.Collector
		env       func(url string) map[string]string
		want      want
	}{
		{"unset", nil, func(string) map[string]string { return nil }, off},
		{"http/protobuf by default", telemetrytest.HTTPCollector, func(url string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url}
		}, exported},
		{"traces endpoint", telemetrytest.HTTPCollector, func(url string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": url + "/v1/traces"}
		}, exported},
		{"grpc", telemetrytest.GRPCCollector, func(url string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
		}, exported},
		{"grpc for traces", telemetrytest.GRPCCollector, func(url string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}
		}, exported},
		{"exporter none", telemetrytest.HTTPCollector, func(url string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_TRACES_EXPORTER": "none"}
		}, off},
		{"SDK disabled", telemetrytest.HTTPCollector, func(url string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_SDK_DISABLED": "true"}
		}, off},
		{"http/json", telemetrytest.HTTPCollector, func(url string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}
		}, refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *telemetrytest.Collector
			url := ""
			if tt.collector != nil {
				c = tt.collector(t)
				url = c.URL
			}
			setEnv(t, tt.env(url))
			tel, err := New(context.Background(), Config{ServiceName: "telemetry-test"})
			if tt.want == refused {
				if err == nil || !strings.Contains(err.Error(), "http/json") {
					t.Fatalf("New: %v, want an error naming the protocol", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (tel.Tracer != nil) != (tt.want == exported) {
				t.Fatalf("tracer %v, want one: %v", tel.Tracer, tt.want == exported)
			}
			if tel.Tracer != nil {
				_, span := tel.Tracer.Tracer("test").Start(context.Background(), "probe")
				span.End()
			}
			if err := tel.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if c == nil {
				return
			}
			got := c.Spans()
			if tt.want == exported && (len(got) != 1 || got[0].Name != "probe" || got[0].Service != "telemetry-test") {
				t.Errorf("the collector got %v, want the probe span from telemetry-test", got)
			}
			if tt.want == off && len(got) > 0 {
				t.Errorf("the collector got %v with tracing off", got)
			}
		})
	}
}
