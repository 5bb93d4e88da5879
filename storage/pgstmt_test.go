package storage

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/example/tasks"
)

// TestPreparedDeadline: a prepared statement whose caller gives up
// mid-read fails with a deadline, its connection is not reused with the
// rest of the answer unread, and the backend stops working on it (the
// socket closed; client_connection_check_interval) well before the
// statement timeout.
func TestPreparedDeadline(t *testing.T) {
	t.Parallel()
	cfg := backends[0].config(t)
	cfg.MaxOpenConns = 1 // the next call gets the same connection, if it is kept
	cfg.StatementTimeout = time.Minute
	s := mustOpen(t, cfg)
	if _, err := s.MigrateUp(testContext(t)); err != nil {
		t.Fatal(err)
	}
	const sleep = "SELECT $2::text FROM pg_sleep($1)"
	ctx, cancel := context.WithTimeout(testContext(t), 200*time.Millisecond)
	defer cancel()
	err := s.read(ctx, sleep, []any{int64(30), "stale"}, func(*sql.Rows) error { return nil })
	wantKind(t, err, tasks.KindDeadline)

	for i := range 3 {
		var got string
		err := s.read(testContext(t), sleep, []any{int64(0), "fresh"}, func(rows *sql.Rows) error {
			rows.Next()
			return rows.Scan(&got)
		})
		if err != nil || got != "fresh" {
			t.Fatalf("call %d after the deadline: %q, %v", i, got, err)
		}
	}
	mustWaitUntil(t, 10*time.Second, "the backend to stop sleeping", func() bool {
		var n int
		err := s.reader.QueryRowContext(testContext(t),
			"SELECT count(*) FROM pg_stat_activity WHERE query = ? AND state = 'active'", sleep).Scan(&n)
		return err == nil && n == 0
	})
}

// mustWaitUntil polls ok until it holds, failing the test after d.
func mustWaitUntil(tb testing.TB, d time.Duration, what string, ok func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(d); !ok(); {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s after %v", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
