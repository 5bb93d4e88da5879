// Package telemetry owns the OpenTelemetry SDK, its exporters and
// Prometheus: the other packages instrument themselves against the
// OpenTelemetry API alone (otelconnect in service, bunotel in storage), and
// cmd/tasksd hands them the providers built here. Metrics are always
// collected and served in Prometheus's text format (Handler, on the debug
// listener); spans are made and exported over OTLP only when the standard
// OTEL_EXPORTER_OTLP_* variables say where to, and otherwise cost nothing.
package telemetry
