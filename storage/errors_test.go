package storage

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	neturl "net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/example/tasks"
	"github.com/example/tasks/internal/pgtest"
)

// mustBeClientSafe fails if a client-facing message carries driver text.
func mustBeClientSafe(tb testing.TB, msg string) {
	tb.Helper()
	for _, leak := range []string{"SQLSTATE", "sqlite", "SQLITE", "pgdriver", "ERROR:", "bun:", "syntax", "relation", "constraint"} {
		if strings.Contains(msg, leak) {
			tb.Errorf("message %q carries driver text (%q)", msg, leak)
		}
	}
}

func TestSQLStateKinds(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]tasks.ErrorKind{
		"40001": tasks.KindUnavailable, // serialization failure
		"40P01": tasks.KindUnavailable, // deadlock
		"23505": tasks.KindConflict,    // unique violation
		"23514": tasks.KindInvalid,     // check violation
		"22001": tasks.KindInvalid,     // string too long
		"57014": tasks.KindDeadline,    // statement timeout
		"53300": tasks.KindUnavailable, // too many connections
		"08006": tasks.KindUnavailable, // connection failure
		"08P01": tasks.KindUnavailable, // protocol violation (PgBouncer's pool errors)
		"57P01": tasks.KindUnavailable, // admin shutdown
		"57P03": tasks.KindUnavailable, // cannot connect now
		"28P01": tasks.KindUnavailable, // bad password
		"25006": tasks.KindUnavailable, // read-only transaction
		"3D000": tasks.KindUnavailable, // no such database
		"42P01": tasks.KindInternal,    // undefined table
		"42601": tasks.KindInternal,    // syntax error
		"":      tasks.KindInternal,
	} {
		if got, msg := sqlStateKind(code); got != want {
			t.Errorf("SQLSTATE %q: %v, want %v", code, got, want)
		} else {
			mustBeClientSafe(t, msg)
		}
	}
}

func TestPostgresErrors(t *testing.T) {
	t.Parallel()
	for _, b := range pgBackends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			cfg := b.config(t)
			cfg.StatementTimeout = 200 * time.Millisecond
			s := mustOpen(t, cfg)
			if _, err := s.MigrateUp(testContext(t)); err != nil {
				t.Fatal(err)
			}
			ctx := testContext(t)

			// The server's statement_timeout, the role's default in the
			// database, in a transaction and for a single read.
			err := s.run(ctx, readTx, func(ctx context.Context, tx bun.Tx) error {
				_, err := tx.ExecContext(ctx, "SELECT pg_sleep(5)")
				return err
			})
			wantKind(t, err, tasks.KindDeadline)
			var slept []string
			err = s.query(ctx, s.reader.NewSelect().ColumnExpr("pg_sleep(5)::text"), &slept)
			wantKind(t, err, tasks.KindDeadline)
			// The connection is fine afterwards, and (directly: PgBouncer's
			// server connections predate them, which is why the simple
			// protocol bounds each call itself) every session has the
			// store's defaults.
			for name, want := range map[string]string{
				"statement_timeout":                   "200ms",
				"idle_in_transaction_session_timeout": "5200ms",
				"client_connection_check_interval":    "1s",
			} {
				var got string
				err := s.reader.QueryRowContext(ctx, "SELECT current_setting(?)", name).Scan(&got)
				if err != nil || (got != want && !b.simple) {
					t.Errorf("%s: %q, %v; want %q", name, got, err, want)
				}
			}
			// A store with another timeout changes them; one with the same
			// leaves them be.
			if changed, err := s.dialect.setDefaults(ctx, s.writer, 200*time.Millisecond); err != nil || changed {
				t.Errorf("setDefaults again: changed %v, %v", changed, err)
			}
			if changed, err := s.dialect.setDefaults(ctx, s.writer, 300*time.Millisecond); err != nil || !changed {
				t.Errorf("setDefaults with another timeout: changed %v, %v", changed, err)
			}

			// A unique violation.
			err = s.run(ctx, writeTx, func(ctx context.Context, tx bun.Tx) error {
				_, err := tx.ExecContext(ctx, "INSERT INTO storage_keys (name, key) VALUES (?, ?), (?, ?)",
					"dup", make([]byte, 32), "dup", make([]byte, 32))
				return err
			})
			wantKind(t, err, tasks.KindConflict)

			// A check violation (the database's own limits).
			err = s.run(ctx, writeTx, func(ctx context.Context, tx bun.Tx) error {
				_, err := tx.ExecContext(ctx, "UPDATE tasks SET priority = 7")
				if err == nil {
					_, err = tx.ExecContext(ctx, "INSERT INTO tasks (user_id, id, title, create_time, update_time, tags) "+
						"VALUES ('u', gen_random_uuid(), 'x', now(), now(), ARRAY['a','a'])")
				}
				return err
			})
			wantKind(t, err, tasks.KindInvalid)
		})
	}
}

func TestConnectionErrors(t *testing.T) {
	t.Parallel()
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		s := mustOpen(t, Config{URL: "postgres://u@" + addr + "/db?sslmode=disable"})
		err = s.Ping(testContext(t))
		wantKind(t, err, tasks.KindUnavailable)
		_, err = s.GetTask(testContext(t), "u", "01a217fb-afc7-7dd0-939c-848404a9af5d")
		wantKind(t, err, tasks.KindUnavailable)
	})
	t.Run("too many connections", func(t *testing.T) {
		t.Parallel()
		c := pgtest.Require(t)
		url := c.NewDatabase(t)
		role := fmt.Sprintf("limited_%d", time.Now().UnixNano())
		c.Exec(t, "CREATE ROLE "+role+" LOGIN CONNECTION LIMIT 0")
		t.Cleanup(func() { c.Exec(t, "DROP ROLE "+role) })
		u, _ := neturl.Parse(url)
		u.User = neturl.User(role)
		s := mustOpen(t, Config{URL: u.String()})
		wantKind(t, s.Ping(testContext(t)), tasks.KindUnavailable)
	})
	t.Run("sqlite busy", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "busy.db")
		s := mustOpen(t, Config{URL: path, StatementTimeout: 100 * time.Millisecond})
		if _, err := s.MigrateUp(testContext(t)); err != nil {
			t.Fatal(err)
		}
		// Another process holds the write lock.
		other, err := sql.Open("sqlite", sqliteDSN(path, 0, true))
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		conn, err := other.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateTask(testContext(t), "u", tasks.NewTask{Title: "blocked"})
		wantKind(t, err, tasks.KindUnavailable)
		if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
		mustCreate(t, s, "u", tasks.NewTask{Title: "unblocked"})
	})
}

// lateContext has passed its deadline, but its timer has not fired yet: the
// moment between pgdriver's socket timeout and the context noticing.
type lateContext struct{ context.Context }

func (lateContext) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

// TestTranslateDeadlinePassed: an error that arrives once the caller's
// deadline has passed is a deadline, not a broken database, even before
// the context says so.
func TestTranslateDeadlinePassed(t *testing.T) {
	t.Parallel()
	ioTimeout := &net.OpError{Op: "read", Net: "tcp", Err: errTimeout{}}
	if k := tasks.KindOf(translate(lateContext{context.Background()}, ioTimeout)); k != tasks.KindDeadline {
		t.Errorf("after the deadline: %v, want deadline", k)
	}
	if k := tasks.KindOf(translate(context.Background(), ioTimeout)); k != tasks.KindUnavailable {
		t.Errorf("with no deadline: %v, want unavailable", k)
	}
}

type errTimeout struct{}

func (errTimeout) Error() string   { return "i/o timeout" }
func (errTimeout) Timeout() bool   { return true }
func (errTimeout) Temporary() bool { return true }
