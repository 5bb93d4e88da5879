package main

import (
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/pgtest"
	"github.com/example/tasks/internal/telemetry/telemetrytest"
)

// TestCallTrace: a call makes a server span named for its procedure, and
// its database queries child spans of it (Bun's hook), on SQLite and on
// PostgreSQL, where the query is a prepared statement.
func TestCallTrace(t *testing.T) {
	t.Parallel()
	for _, db := range []struct {
		name string
		env  func(testing.TB) map[string]string
	}{
		{"sqlite", func(testing.TB) map[string]string { return nil }},
		{"postgres", func(tb testing.TB) map[string]string {
			return map[string]string{"DATABASE_URL": pgtest.NewDatabase(tb)}
		}},
	} {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			spans := tracetest.NewInMemoryExporter()
			s := mustStartServerWith(t, db.env(t), func(c *config) { c.spans = spans })
			c := dialConnect(t, s, "traced")
			task := mustCreate(t, c, &tasksv1.CreateTaskRequest{Title: "traced"})
			mustGet(t, c, task.GetId())

			var call tracetest.SpanStub
			for _, sp := range spans.GetSpans() {
				if sp.Name == "tasks.v1.TaskService/GetTask" && sp.SpanKind == trace.SpanKindServer {
					call = sp
				}
			}
			if !call.SpanContext.IsValid() {
				t.Fatalf("no GetTask span among %d", len(spans.GetSpans()))
			}
			var queries []string
			for _, sp := range spans.GetSpans() {
				if sp.Parent.SpanID() == call.SpanContext.SpanID() && sp.SpanKind == trace.SpanKindClient {
					queries = append(queries, sp.Name)
				}
			}
			if len(queries) != 1 || queries[0] != "SELECT" {
				t.Errorf("query spans under GetTask: %q, want its one SELECT", queries)
			}
		})
	}
}

// TestTracesOverOTLP runs the binary with the standard
// OTEL_EXPORTER_OTLP_ENDPOINT pointing at a collector: the spans of a call
// and of its query arrive there (the last ones when the server stops), and
// the call's log line carries its trace id.
func TestTracesOverOTLP(t *testing.T) {
	t.Parallel()
	collector := telemetrytest.HTTPCollector(t)
	env := map[string]string{
		"LISTEN_ADDR":                 "127.0.0.1:0",
		"DATA_DIR":                    t.TempDir(),
		"AUTH_JWT_SECRET":             mustRandomHex(t, 32),
		"LOG_FORMAT":                  "json",
		"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL,
	}
	srv := mustRun(t, env, "serve")
	s := &testServer{baseURL: srv.mustWaitListening(t)}
	token := strings.TrimSpace(mustOutput(t, env, "token", "-sub", "otlp-user"))
	c := connectDialer()(t, s, token)
	mustGet(t, c, mustCreate(t, c, &tasksv1.CreateTaskRequest{Title: "exported"}).GetId())
	srv.mustStop(t)

	var traceID string
	for _, entry := range srv.logLines("rpc") {
		if entry["procedure"] == "/tasks.v1.TaskService/GetTask" {
			traceID, _ = entry["trace_id"].(string)
		}
	}
	if traceID == "" {
		t.Fatalf("no trace_id in the GetTask log line:\n%s", srv.text())
	}
	spans := collector.Spans()
	var call telemetrytest.Span
	for _, sp := range spans {
		if sp.Name == "tasks.v1.TaskService/GetTask" && sp.ServerKind {
			call = sp
		}
	}
	if call.TraceID != traceID || call.Service != "tasksd" {
		t.Fatalf("GetTask span %+v, want trace %s of service tasksd (of %d spans)", call, traceID, len(spans))
	}
	var queries int
	for _, sp := range spans {
		if sp.ParentSpanID == call.SpanID && sp.ClientKind && sp.Attributes["db.system"] == "sqlite" {
			queries++
		}
	}
	if queries != 1 {
		t.Errorf("%d query spans under GetTask, want 1", queries)
	}
}
