package storage

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/example/tasks"
	"github.com/example/tasks/internal/telemetry"
	"github.com/example/tasks/internal/telemetry/telemetrytest"
)

// TestQuerySpans: with a tracer, each query made within a span gets a
// child span from Bun's hook, whatever path it takes (a prepared
// statement, a formatted query, Bun's own), naming the statement with
// placeholders and never the values; queries made outside any span (the
// background work) get none.
func TestQuerySpans(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			spans := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			cfg := b.config(t)
			cfg.Tracer = tp
			s := mustMigrated(t, mustOpen(t, cfg))
			user := newUser()
			task := mustCreate(t, s, user, tasks.NewTask{Title: "a private title"})
			if n := len(spans.Ended()); n != 0 {
				t.Errorf("%d spans of queries made outside a span", n)
			}

			ctx, call := tp.Tracer("test").Start(testContext(t), "call")
			if _, err := s.GetTask(ctx, user, task.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ListTasks(ctx, user, tasks.ListQuery{}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ChangePositions(ctx, []string{user}); err != nil {
				t.Fatal(err)
			}
			call.End()

			var queries int
			for _, sp := range spans.Ended() {
				if sp.Parent().SpanID() != call.SpanContext().SpanID() {
					continue
				}
				queries++
				attrs := attribute.NewSet(sp.Attributes()...)
				system, _ := attrs.Value("db.system")
				statement, _ := attrs.Value("db.statement")
				if sp.SpanKind() != trace.SpanKindClient || sp.Name() != "SELECT" || (system.AsString() != "postgresql" && system.AsString() != "sqlite") {
					t.Errorf("span %q, kind %v, db.system %q", sp.Name(), sp.SpanKind(), system.AsString())
				}
				if st := statement.AsString(); !strings.Contains(st, "tasks") && !strings.Contains(st, "users") ||
					strings.Contains(st, user) || strings.Contains(st, task.ID) {
					t.Errorf("db.statement %q: want the statement without its values", st)
				}
			}
			if queries < 3 {
				t.Errorf("%d query spans under the call, want one for each of its 3 reads at least", queries)
			}
		})
	}
}

// TestPoolMetrics: the pools' numbers are reported under their names, a
// query waiting for a connection is counted as a wait, and Close stops the
// reporting.
func TestPoolMetrics(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			tel, err := telemetry.New(context.Background(), telemetry.Config{ServiceName: "storage-test", Metrics: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tel.Shutdown(context.Background()) })
			cfg := b.config(t)
			cfg.Meter, cfg.MaxOpenConns = tel.Meter, 1
			s, err := Open(testContext(t), cfg)
			if err != nil {
				t.Fatal(err)
			}
			mustMigrated(t, s)
			pool := "primary"
			if s.reader != s.writer {
				pool = "reader"
			}
			metrics := func() telemetrytest.Metrics { return telemetrytest.ScrapeHandler(t, tel.Handler()) }
			if got := metrics().Value("tasks_db_connections_max", "pool", pool); got != 1 {
				t.Errorf("max connections of %s: %v, want 1", pool, got)
			}

			// Hold the pool's only connection: the next read waits for it.
			ctx := testContext(t)
			conn, err := s.reader.DB.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			read := make(chan error, 1)
			go func() {
				_, err := s.GetTask(ctx, newUser(), "00000000-0000-0000-0000-000000000000")
				read <- err
			}()
			mustWaitUntil(t, 10*time.Second, "the read to wait for the connection", func() bool {
				return metrics().Value("tasks_db_connection_waits_total", "pool", pool) == 1
			})
			if got := metrics().Value("tasks_db_connections", "pool", pool, "state", "in_use"); got != 1 {
				t.Errorf("connections in use: %v, want 1", got)
			}
			conn.Close()
			if err := <-read; tasks.KindOf(err) != tasks.KindNotFound {
				t.Fatalf("the read that waited: %v", err)
			}
			if got := metrics().Value("tasks_db_connection_wait_seconds_total", "pool", pool); got <= 0 {
				t.Errorf("time waited: %v, want more than 0", got)
			}

			s.Close()
			if m := metrics(); m.Has("tasks_db_connections") {
				t.Errorf("still reported after Close")
			}
		})
	}
}
