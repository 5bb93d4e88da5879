package storage

import (
	"context"
	"database/sql"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/extra/bunotel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// newQueryHook returns Bun's OpenTelemetry hook (bunotel) for tp, or nil
// when there is no tracing: then no query pays for it. Only its spans are
// used; the query durations it would also record (whole milliseconds) are
// left to the spans and the calls' own durations.
func newQueryHook(tp trace.TracerProvider) bun.QueryHook {
	if tp == nil {
		return nil
	}
	return withinSpan{bunotel.NewQueryHook(
		bunotel.WithTracerProvider(tp),
		bunotel.WithMeterProvider(metricnoop.NewMeterProvider()),
	)}
}

// withinSpan passes to its hook only the queries made within a span, which
// is to say within a call: the background work (rechecking watches,
// forgetting old deletions) would otherwise make a trace of one query
// every few seconds. It also hides the hook's Init, with which bunotel
// would report the pool's numbers to the global meter provider; the store
// reports them to its own (reportPools).
type withinSpan struct{ hook bun.QueryHook }

func (w withinSpan) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	return w.hook.BeforeQuery(ctx, e)
}

func (w withinSpan) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	w.hook.AfterQuery(ctx, e)
}

// traced runs a statement that the store sends on db's *sql.DB itself
// (prepared, or formatted already) rather than through Bun's query
// methods, past the hook Bun runs its own queries past, so that it too has
// a span. template is the statement with placeholders, never values; q,
// when not nil, is the Bun query it came from.
func (s *Store) traced(ctx context.Context, db *bun.DB, template string, q bun.Query, run func(context.Context) error) error {
	if s.queryHook == nil {
		return run(ctx)
	}
	e := &bun.QueryEvent{DB: db, IQuery: q, Query: template, QueryTemplate: template, StartTime: time.Now()}
	ctx = s.queryHook.BeforeQuery(ctx, e)
	e.Err = run(ctx)
	s.queryHook.AfterQuery(ctx, e)
	return e.Err
}

// reportPools reports the connection pools' numbers (database/sql's
// DBStats) to mp, each pool under its name: "primary" on PostgreSQL,
// "writer" and "reader" on SQLite. Waits are what to watch: a call that
// waited for a connection waited for the pool, not the database.
func (s *Store) reportPools(mp metric.MeterProvider) (metric.Registration, error) {
	pools := map[string]*sql.DB{"primary": s.writer.DB}
	if s.reader != s.writer {
		pools = map[string]*sql.DB{"writer": s.writer.DB, "reader": s.reader.DB}
	}
	meter := mp.Meter("github.com/example/tasks/storage")
	conns, err := meter.Int64ObservableGauge("tasks.db.connections", metric.WithUnit("{connection}"),
		metric.WithDescription("Open connections of a pool, by state: in_use or idle"))
	if err != nil {
		return nil, err
	}
	maxConns, err := meter.Int64ObservableGauge("tasks.db.connections.max", metric.WithUnit("{connection}"),
		metric.WithDescription("The most connections a pool opens"))
	if err != nil {
		return nil, err
	}
	waits, err := meter.Int64ObservableCounter("tasks.db.connection.waits", metric.WithUnit("{wait}"),
		metric.WithDescription("Queries that waited for a free connection"))
	if err != nil {
		return nil, err
	}
	waited, err := meter.Float64ObservableCounter("tasks.db.connection.wait", metric.WithUnit("s"),
		metric.WithDescription("Time spent waiting for a free connection"))
	if err != nil {
		return nil, err
	}
	closed, err := meter.Int64ObservableCounter("tasks.db.connections.closed", metric.WithUnit("{connection}"),
		metric.WithDescription("Connections the pool closed, by reason: max_idle, max_idle_time or max_lifetime"))
	if err != nil {
		return nil, err
	}
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for name, db := range pools {
			st := db.Stats()
			pool := attribute.String("pool", name)
			o.ObserveInt64(conns, int64(st.InUse), metric.WithAttributes(pool, attribute.String("state", "in_use")))
			o.ObserveInt64(conns, int64(st.Idle), metric.WithAttributes(pool, attribute.String("state", "idle")))
			o.ObserveInt64(maxConns, int64(st.MaxOpenConnections), metric.WithAttributes(pool))
			o.ObserveInt64(waits, st.WaitCount, metric.WithAttributes(pool))
			o.ObserveFloat64(waited, st.WaitDuration.Seconds(), metric.WithAttributes(pool))
			o.ObserveInt64(closed, st.MaxIdleClosed, metric.WithAttributes(pool, attribute.String("reason", "max_idle")))
			o.ObserveInt64(closed, st.MaxIdleTimeClosed, metric.WithAttributes(pool, attribute.String("reason", "max_idle_time")))
			o.ObserveInt64(closed, st.MaxLifetimeClosed, metric.WithAttributes(pool, attribute.String("reason", "max_lifetime")))
		}
		return nil
	}, conns, maxConns, waits, waited, closed)
}
