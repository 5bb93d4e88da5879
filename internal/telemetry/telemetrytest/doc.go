// Package telemetrytest is what tests need to check a server's telemetry
// from the outside, as Prometheus and an OpenTelemetry collector would see
// it: Scrape reads /metrics in Prometheus's text format, and a Collector
// receives spans over OTLP (HTTP or gRPC) and keeps them.
package telemetrytest
