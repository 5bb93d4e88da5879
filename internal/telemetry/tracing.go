package telemetry

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// newTracing returns the tracer provider the environment asks for, or nil
// when it asks for none: spans goes to spans when set, else over OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set,
// unless OTEL_TRACES_EXPORTER is "none" or OTEL_SDK_DISABLED is "true".
//
// The variables are the standard ones and are read by the SDK itself, from
// the process environment: the exporter's endpoint, headers, timeout,
// compression and certificates (OTEL_EXPORTER_OTLP_*), the protocol
// (OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL: http/protobuf, the default, or
// grpc), the sampler (OTEL_TRACES_SAMPLER, default parentbased_always_on)
// and the batching (OTEL_BSP_*). Only the choice of exporter is made here.
func newTracing(ctx context.Context, res *resource.Resource, spans sdktrace.SpanExporter) (*sdktrace.TracerProvider, error) {
	if spans != nil {
		return sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans), sdktrace.WithResource(res)), nil
	}
	exporter, err := otlpExporter(ctx)
	if exporter == nil || err != nil {
		return nil, err
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res)), nil
}

// otlpExporter returns the OTLP exporter the environment configures, or
// nil when it configures none.
func otlpExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	switch {
	case strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true"),
		strings.EqualFold(os.Getenv("OTEL_TRACES_EXPORTER"), "none"),
		os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "":
		return nil, nil
	}
	protocol := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		protocol = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch protocol {
	case "", "http/protobuf":
		return otlptracehttp.New(ctx)
	case "grpc":
		return otlptracegrpc.New(ctx)
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL: %q is not supported (want http/protobuf or grpc)", protocol)
	}
}
