package service

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/protobuf/proto"

	"github.com/example/tasks"
	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// BenchmarkGetTaskTelemetry is what telemetry adds to a GetTask served in
// process (Connect, the interceptors, an in-memory store): nothing (the
// server without DEBUG_ADDR or OTEL_*), metrics (with DEBUG_ADDR), and
// metrics with every call traced (an OTLP endpoint, sampling everything,
// to an exporter that drops the spans).
func BenchmarkGetTaskTelemetry(b *testing.B) {
	for _, bb := range []struct {
		name           string
		metrics, trace bool
	}{
		{"off", false, false},
		{"metrics", true, false},
		{"metrics+traces", true, true},
	} {
		b.Run(bb.name, func(b *testing.B) {
			var tc TelemetryConfig
			if bb.metrics {
				tc.Meter, _ = mustMetrics(b)
			}
			if bb.trace {
				tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
				b.Cleanup(func() { tp.Shutdown(context.Background()) })
				tc.Tracer = tp
			}
			var tel *Telemetry
			if bb.metrics || bb.trace {
				var err error
				if tel, err = NewTelemetry(tc); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { tel.Close() })
			}
			benchmarkGetTask(b, tel)
		})
	}
}

func benchmarkGetTask(b *testing.B, tel *Telemetry) {
	validator, err := sharedValidator()
	if err != nil {
		b.Fatal(err)
	}
	store := newMemStore()
	ctx := tasks.WithUser(context.Background(), tasks.User{ID: "bench"})
	task, err := store.CreateTask(ctx, "bench", tasks.NewTask{Title: "benchmarked"})
	if err != nil {
		b.Fatal(err)
	}
	path, h := NewTaskServiceHandler(store, Config{
		Logger:          slog.New(slog.DiscardHandler),
		Validator:       validator,
		MaxRequestBytes: testMaxRequestBytes,
		CallTimeout:     testCallTimeout,
		Telemetry:       tel,
	})
	body, err := proto.Marshal(&tasksv1.GetTaskRequest{Id: task.ID})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := processCPU(b)
	for b.Loop() {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, path+"GetTask", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/proto")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
}

// processCPU is the CPU time the process has used, in nanoseconds. On a
// shared machine it says more than ns/op, which counts the time others'
// processes held the cores too.
func processCPU(tb testing.TB) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
