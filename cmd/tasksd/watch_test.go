package main

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/uptrace/bun/driver/pgdriver"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
	"github.com/example/tasks/internal/pgtest"
)

// watcher is an open WatchTasks stream whose messages a goroutine
// collects.
type watcher struct {
	msgs chan *tasksv1.WatchTasksResponse
	done chan struct{}
	err  error // once done is closed
	last string
}

// mustWatch opens a watch of token's user at baseURL from cursor, over
// gRPC, until the test ends.
func mustWatch(tb testing.TB, baseURL, token, cursor string) *watcher {
	tb.Helper()
	return mustWatchWith(tb, h2cClient(), baseURL, token, cursor, connect.WithGRPC())
}

// mustWatchWith is mustWatch through client, with opts.
func mustWatchWith(tb testing.TB, client *http.Client, baseURL, token, cursor string, opts ...connect.ClientOption) *watcher {
	tb.Helper()
	c := tasksv1connect.NewTaskServiceClient(client, baseURL, append(opts, connect.WithInterceptors(bearer(token)))...)
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := c.WatchTasks(ctx, &tasksv1.WatchTasksRequest{Cursor: cursor})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	w := &watcher{msgs: make(chan *tasksv1.WatchTasksResponse, 1000), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for stream.Receive() {
			w.msgs <- stream.Msg()
		}
		w.err = stream.Err()
	}()
	tb.Cleanup(func() { cancel(); <-w.done })
	return w
}

// next returns the next message with changes (or the first message, with
// or without), skipping heartbeats.
func (w *watcher) next(tb testing.TB, first bool) *tasksv1.WatchTasksResponse {
	tb.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case m := <-w.msgs:
			w.last = m.GetCursor()
			if first || len(m.GetChanges()) > 0 {
				return m
			}
		case <-w.done:
			tb.Fatalf("the watch ended: %v", w.err)
		case <-timeout:
			tb.Fatal("no change within 20s")
		}
	}
}

// end waits for the watch to end and returns why.
func (w *watcher) end(tb testing.TB) error {
	tb.Helper()
	select {
	case <-w.done:
		return w.err
	case <-time.After(30 * time.Second):
		tb.Fatal("the watch did not end")
		return nil
	}
}

// TestWatchAcrossReplicas runs two tasksd processes on one PostgreSQL: a
// change made through one reaches a watch on the other, and killing the
// listening connections (pg_terminate_backend) loses and repeats nothing.
func TestWatchAcrossReplicas(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	secret := mustRandomHex(t, 32)
	env := map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "DATABASE_URL": dbURL, "AUTH_JWT_SECRET": secret, "DATA_DIR": t.TempDir()}
	a := mustRun(t, env, "serve")
	urlA := a.mustWaitListening(t)
	b := mustRun(t, env, "serve")
	urlB := b.mustWaitListening(t)
	token, err := mintToken(config{JWTSecret: secret}, "replicated", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	writer := connectAPI{tasksv1connect.NewTaskServiceClient(h2cClient(), urlA, connect.WithInterceptors(bearer(token)))}

	w := mustWatch(t, urlB, token, "")
	w.next(t, true)
	var delays []time.Duration
	for i := range 5 {
		start := time.Now()
		task := mustCreate(t, writer, &tasksv1.CreateTaskRequest{Title: "through A"})
		got := w.next(t, false).GetChanges()
		delays = append(delays, time.Since(start))
		if len(got) != 1 || got[0].GetTask().GetId() != task.GetId() {
			t.Fatalf("change %d: got %v, want %s", i, got, task.GetId())
		}
	}
	t.Logf("from a create on A to the watch on B: %v", delays)

	// Kill every listening connection; write while the replicas
	// reconnect. Every change arrives once, in order.
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dbURL)))
	defer db.Close()
	var killed int
	if err := db.QueryRow("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity " +
		"WHERE query LIKE 'LISTEN %' AND datname = current_database()").Scan(&killed); err != nil || killed != 2 {
		t.Fatalf("killed %d listening connections (%v), want both replicas'", killed, err)
	}
	var want []string
	for range 10 {
		want = append(want, mustCreate(t, writer, &tasksv1.CreateTaskRequest{Title: "during the reconnect"}).GetId())
	}
	var got []string
	for len(got) < len(want) {
		for _, c := range w.next(t, false).GetChanges() {
			got = append(got, c.GetTask().GetId())
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d changes, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("change %d is %s, want %s", i, got[i], want[i])
		}
	}
	select {
	case m := <-w.msgs:
		if len(m.GetChanges()) > 0 {
			t.Errorf("a change came twice: %v", m)
		}
	case <-time.After(500 * time.Millisecond):
	}
}

// TestWatchShutdown: on SIGTERM an open watch ends Unavailable, so its
// client reconnects elsewhere, and the server stops without waiting out
// the shutdown timeout. Watches have no default call deadline.
func TestWatchShutdown(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, map[string]string{"CALL_TIMEOUT": "50ms", "WATCH_HEARTBEAT": "20ms", "SHUTDOWN_TIMEOUT": "1m"})
	w := mustWatch(t, s.baseURL, s.mustToken(t, "until-shutdown"), "")
	w.next(t, true)
	for range 10 { // heartbeats, long past CALL_TIMEOUT
		select {
		case m := <-w.msgs:
			if len(m.GetChanges()) != 0 {
				t.Fatalf("a heartbeat with changes: %v", m)
			}
		case <-w.done:
			t.Fatalf("the watch ended: %v", w.err)
		}
	}
	start := time.Now()
	if err := s.shutdown(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("shutdown took %v: it waited for the watch", took)
	}
	mustWatchEnded(t, w, connect.CodeUnavailable)
}

func mustWatchEnded(tb testing.TB, w *watcher, code connect.Code) {
	tb.Helper()
	err := w.end(tb)
	var cerr *connect.Error
	if !errors.As(err, &cerr) || cerr.Code() != code {
		tb.Fatalf("the watch ended with %v, want %v", err, code)
	}
}

// TestWatchDatabaseDown: when the database goes away under an open watch,
// the watch ends Unavailable; resumed from its last cursor once the
// database is back, it gets what was written meanwhile (by another
// replica), nothing lost.
func TestWatchDatabaseDown(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	proxy := mustStartProxy(t, dbURL)
	secret := mustRandomHex(t, 32)
	cut := mustStartServer(t, map[string]string{"DATABASE_URL": proxy.url, "AUTH_JWT_SECRET": secret, "DB_STATEMENT_TIMEOUT": "1s"})
	other := mustStartServer(t, map[string]string{"DATABASE_URL": dbURL, "AUTH_JWT_SECRET": secret})
	token := cut.mustToken(t, "outage")
	writer := connectAPI{tasksv1connect.NewTaskServiceClient(h2cClient(), other.baseURL, connect.WithInterceptors(bearer(token)))}

	w := mustWatch(t, cut.baseURL, token, "")
	w.next(t, true)
	before := mustCreate(t, writer, &tasksv1.CreateTaskRequest{Title: "before"})
	if got := w.next(t, false).GetChanges(); got[0].GetTask().GetId() != before.GetId() {
		t.Fatalf("got %v", got)
	}
	proxy.setDown(true)
	mustWatchEnded(t, w, connect.CodeUnavailable)
	during := mustCreate(t, writer, &tasksv1.CreateTaskRequest{Title: "during the outage"})
	proxy.setDown(false)

	var resumed *watcher
	mustWaitFor(t, "the watch to resume", func() bool {
		resumed = mustWatch(t, cut.baseURL, token, w.last)
		select {
		case m := <-resumed.msgs:
			resumed.msgs <- m
			return true
		case <-resumed.done:
			return false // the pool is still reconnecting
		}
	})
	got := resumed.next(t, true).GetChanges()
	if len(got) != 1 || got[0].GetTask().GetId() != during.GetId() {
		t.Fatalf("after the outage: %v, want only %s", got, during.GetId())
	}
}

// TestCursorExpires: a deletion older than CHANGE_RETENTION is forgotten
// (here when the server starts), and a cursor from before it answers
// FailedPrecondition CURSOR_EXPIRED; a full sync works on.
func TestCursorExpires(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATA_DIR": t.TempDir(), "AUTH_JWT_SECRET": mustRandomHex(t, 32), "CHANGE_RETENTION": "1ms"}
	first := mustStartServer(t, env)
	c := dialConnect(t, first, "forgetful")
	ctx := context.Background()
	task := mustCreate(t, c, &tasksv1.CreateTaskRequest{Title: "soon gone"})
	old, err := c.ListTaskChanges(ctx, &tasksv1.ListTaskChangesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteTask(ctx, &tasksv1.DeleteTaskRequest{Id: task.GetId()}); err != nil {
		t.Fatal(err)
	}
	if err := first.shutdown(); err != nil {
		t.Fatal(err)
	}

	second := mustStartServer(t, env) // forgets the deletion as it starts
	c = dialConnect(t, second, "forgetful")
	mustWaitFor(t, "the deletion to be forgotten", func() bool {
		_, err := c.ListTaskChanges(ctx, &tasksv1.ListTaskChangesRequest{Cursor: old.GetNextCursor()})
		return connect.CodeOf(err) == connect.CodeFailedPrecondition
	})
	_, err = c.ListTaskChanges(ctx, &tasksv1.ListTaskChangesRequest{Cursor: old.GetNextCursor()})
	mustFail(t, err, connect.CodeFailedPrecondition, "CURSOR_EXPIRED")
	w := mustWatch(t, second.baseURL, second.mustToken(t, "forgetful"), old.GetNextCursor())
	mustWatchEnded(t, w, connect.CodeFailedPrecondition)
	full, err := c.ListTaskChanges(ctx, &tasksv1.ListTaskChangesRequest{})
	if err != nil || len(full.GetChanges()) != 0 {
		t.Fatalf("a full sync after: %v, %v", full, err)
	}
}
