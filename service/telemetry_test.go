package service

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/example/tasks"
	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/telemetry"
	"github.com/example/tasks/internal/telemetry/telemetrytest"
)

// The metric names as Prometheus reads them (internal/telemetry).
const (
	callDuration = "rpc_server_call_duration_seconds"
	callsRefused = "tasks_calls_refused_total"
	inFlightNow  = "tasks_calls_in_flight"
	watchesOpen  = "tasks_watches_open"
	watchLag     = "tasks_watch_delivery_lag_seconds"
)

// mustMetrics returns a meter provider and the handler Prometheus would
// scrape its numbers from, as the server's /metrics does.
func mustMetrics(tb testing.TB) (metric.MeterProvider, http.Handler) {
	tb.Helper()
	tel, err := telemetry.New(context.Background(), telemetry.Config{ServiceName: "service-test", Metrics: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { tel.Shutdown(context.Background()) })
	return tel.Meter, tel.Handler()
}

// calls is the number of calls of procedure (e.g. "GetTask") that ended
// with code ("OK", "NOT_FOUND", ...).
func calls(m telemetrytest.Metrics, procedure, code string) float64 {
	return m.Value(callDuration, "rpc_method", "tasks.v1.TaskService/"+procedure, "rpc_response_status_code", code)
}

// TestCallMetrics: every call is counted once under its procedure and the
// code its client got, and nothing is left in flight.
func TestCallMetrics(t *testing.T) {
	t.Parallel()
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		meter, metrics := mustMetrics(t)
		srv := mustServe(t, newMemStore(), serveOptions{meter: meter})
		c := p.dial(t, srv, "alice")
		task := mustCreateTask(t, c, &tasksv1.CreateTaskRequest{Title: "counted"})
		const gets = 3
		for range gets {
			if _, err := c.GetTask(context.Background(), &tasksv1.GetTaskRequest{Id: task.GetId()}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := c.GetTask(context.Background(), &tasksv1.GetTaskRequest{Id: uuid.NewString()})
		mustFailWith(t, err, connect.CodeNotFound, ReasonNotFound)
		_, err = c.CreateTask(context.Background(), &tasksv1.CreateTaskRequest{})
		mustFailWith(t, err, connect.CodeInvalidArgument, ReasonValidation)

		m := telemetrytest.ScrapeHandler(t, metrics)
		for _, want := range []struct {
			procedure, code string
			n               float64
		}{
			{"GetTask", "OK", gets},
			{"GetTask", "NOT_FOUND", 1},
			{"CreateTask", "OK", 1},
			{"CreateTask", "INVALID_ARGUMENT", 1},
			{"ListTasks", "OK", 0},
		} {
			if got := calls(m, want.procedure, want.code); got != want.n {
				t.Errorf("%s %s: %v calls, want %v", want.procedure, want.code, got, want.n)
			}
		}
		if !m.Has(inFlightNow) || m.Value(inFlightNow) != 0 {
			t.Errorf("in flight after the calls: %v (reported: %v)", m.Value(inFlightNow), m.Has(inFlightNow))
		}
		// No tracer: no spans, so no trace ids in the log.
		if strings.Contains(srv.logs.String(), "trace_id=") {
			t.Errorf("a trace id without tracing:\n%s", srv.logs)
		}
	})
}

// TestShedCallsCounted: a call LimitInFlight sheds is counted as refused
// (it never reaches the handler, so it is no call of any code), and the
// calls being served are reported in flight.
func TestShedCallsCounted(t *testing.T) {
	t.Parallel()
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		entered := make(chan struct{}, 1)
		release := make(chan struct{})
		var once sync.Once
		store := faultyStore{fail: func(ctx context.Context) error {
			once.Do(func() { entered <- struct{}{} })
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}}
		meter, metrics := mustMetrics(t)
		srv := mustServe(t, store, serveOptions{limits: Limits{MaxInFlight: 1}, meter: meter})
		releaseAll := sync.OnceFunc(func() { close(release) })
		t.Cleanup(releaseAll)
		c := p.dial(t, srv, "alice")
		list := func() error {
			_, err := c.ListTasks(context.Background(), &tasksv1.ListTasksRequest{})
			return err
		}
		held := make(chan error, 1)
		go func() { held <- list() }()
		<-entered

		mustFailWith(t, list(), connect.CodeUnavailable, ReasonUnavailable)
		m := telemetrytest.ScrapeHandler(t, metrics)
		if got := m.Value(inFlightNow); got != 1 {
			t.Errorf("in flight while one call is held: %v", got)
		}
		if got := m.Value(callsRefused, "reason", "shed"); got != 1 {
			t.Errorf("shed: %v, want 1", got)
		}
		if got := m.Value(callDuration, "rpc_method", "tasks.v1.TaskService/ListTasks"); got != 0 {
			t.Errorf("ListTasks calls ended: %v, want none yet", got)
		}

		releaseAll()
		if err := <-held; err != nil {
			t.Fatal(err)
		}
		m = telemetrytest.ScrapeHandler(t, metrics)
		if got, shed := calls(m, "ListTasks", "OK"), m.Value(callsRefused, "reason", "shed"); got != 1 || shed != 1 {
			t.Errorf("after the held call: %v ListTasks OK, %v shed; want 1 and 1", got, shed)
		}
		if got := m.Value(inFlightNow); got != 0 {
			t.Errorf("in flight after the held call: %v", got)
		}
	})
}

// TestTracedCall: with a tracer, a call has a server span named for its
// procedure, whose trace id its log line carries. A caller's traceparent
// is linked, not continued: the API is public, and its callers do not
// choose the server's trace ids.
func TestTracedCall(t *testing.T) {
	t.Parallel()
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		spans := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
		srv := mustServe(t, newMemStore(), serveOptions{tracer: tp})
		c := p.dial(t, srv, "alice")
		task := mustCreateTask(t, c, &tasksv1.CreateTaskRequest{Title: "traced"})
		const remote = "0af7651916cd43dd8448eb211c80319c"
		x := &exchange{send: http.Header{"Traceparent": {"00-" + remote + "-b7ad6b7169203331-01"}}}
		if _, err := c.GetTask(withExchange(context.Background(), x), &tasksv1.GetTaskRequest{Id: task.GetId()}); err != nil {
			t.Fatal(err)
		}

		var get sdktrace.ReadOnlySpan
		for _, s := range spans.Ended() {
			if s.Name() == "tasks.v1.TaskService/GetTask" && s.SpanKind() == trace.SpanKindServer {
				get = s
			}
		}
		if get == nil {
			t.Fatalf("no GetTask server span among %d", len(spans.Ended()))
		}
		id := get.SpanContext().TraceID().String()
		if id == remote || get.Parent().IsValid() {
			t.Errorf("the caller's trace was continued: trace %s, parent %v", id, get.Parent())
		}
		if links := get.Links(); len(links) != 1 || links[0].SpanContext.TraceID().String() != remote {
			t.Errorf("links %v, want the caller's trace", links)
		}
		var line string
		for l := range strings.Lines(srv.logs.String()) {
			if strings.Contains(l, "procedure=/tasks.v1.TaskService/GetTask") {
				line = l
			}
		}
		if !strings.Contains(line, "trace_id="+id) {
			t.Errorf("the GetTask log line lacks trace_id=%s: %q", id, line)
		}
	})
}

// TestWatchMetrics: open watches are reported, and how late each change
// reaches a watch: those it is handed and those it reads after a lost
// announcement, but not the history it starts with.
func TestWatchMetrics(t *testing.T) {
	t.Parallel()
	meter, metrics := mustMetrics(t)
	store := newMemStore()
	srv := mustServe(t, store, serveOptions{meter: meter})
	c := dialConnect(t, srv, "alice")
	mustCreateTask(t, c, &tasksv1.CreateTaskRequest{Title: "history"})
	w := mustWatch(t, dialWatcher(t, srv, bearerFor(t, "alice")), "")
	if got := w.next(t).GetChanges(); len(got) != 1 {
		t.Fatalf("the first message: %v", got)
	}
	m := telemetrytest.ScrapeHandler(t, metrics)
	if got := m.Value(watchesOpen); got != 1 {
		t.Errorf("open watches: %v, want 1", got)
	}
	if got := m.Value(watchLag); got != 0 {
		t.Errorf("deliveries counted from the history: %v", got)
	}

	mustCreateTask(t, c, &tasksv1.CreateTaskRequest{Title: "announced"})
	w.nextChanges(t, 1)
	store.mu.Lock()
	store.committed = nil // the next announcement is lost: the watch reads
	store.mu.Unlock()
	if _, err := store.CreateTask(context.Background(), "alice", tasks.NewTask{Title: "unheard"}); err != nil {
		t.Fatal(err)
	}
	srv.watch.Missed()
	w.nextChanges(t, 1)
	// Counted after the send: the client may see the change first.
	waitFor(t, "two deliveries counted", func() bool { return telemetrytest.ScrapeHandler(t, metrics).Value(watchLag) >= 2 })
	if got := telemetrytest.ScrapeHandler(t, metrics).Value(watchLag); got != 2 {
		t.Errorf("deliveries: %v, want 2", got)
	}

	w.cancel()
	<-w.done
	waitFor(t, "no open watch", func() bool { return telemetrytest.ScrapeHandler(t, metrics).Value(watchesOpen) == 0 })
}
