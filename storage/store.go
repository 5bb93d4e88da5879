package storage

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/migrate"
	"github.com/uptrace/bun/schema"

	"github.com/example/tasks/service"
)

// Store keeps tasks in PostgreSQL or SQLite. It is safe for concurrent use.
type Store struct {
	cfg      Config
	postgres bool
	// writer runs writes, reader reads: the same pool on PostgreSQL; on
	// SQLite the single writer connection and a pool of readers.
	writer, reader *bun.DB
	dialect        schema.Dialect
	// migrationDB opens a one-connection pool for a migration.
	migrationDB func() (*sql.DB, error)
	migrations  *migrate.Migrations

	keyMu sync.Mutex
	key   []byte // the page token key, once loaded
}

var _ service.TaskStore = (*Store)(nil)

// Open returns a store for cfg.URL. It checks the URL and prepares the
// connection pools but does not connect to PostgreSQL (Ping does), so a
// server can start while its database is still coming up; an SQLite file
// and its directory are created. It does not change the schema: call
// MigrateUp before serving.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	raw := strings.TrimSpace(cfg.URL)
	switch {
	case raw == "":
		return nil, invalidURL("empty")
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return openPostgres(raw, cfg.withDefaults(defaultPGMaxOpenConns))
	case strings.Contains(raw, "://"):
		return nil, invalidURL("unsupported scheme (want postgres://, postgresql://, file: or a path)")
	default:
		return openSQLite(ctx, raw, cfg.withDefaults(defaultSQLiteReaders))
	}
}

func openPostgres(raw string, cfg Config) (*Store, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error repeats the URL, password and all.
		return nil, invalidURL("not a URL")
	}
	target, err := parsePostgresURL(u)
	if err != nil {
		return nil, err
	}
	conn, err := target.connector(cfg.StatementTimeout + readTimeoutMargin)
	if err != nil {
		return nil, err
	}
	sqldb := sql.OpenDB(conn)
	sqldb.SetMaxOpenConns(cfg.MaxOpenConns)
	sqldb.SetMaxIdleConns(cfg.MaxIdleConns)
	sqldb.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	sqldb.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	d := pgdialect.New()
	db := bun.NewDB(sqldb, d)
	s := &Store{
		cfg:      cfg,
		postgres: true,
		writer:   db,
		reader:   db,
		dialect:  d,
		migrationDB: func() (*sql.DB, error) {
			conn, err := target.connector(cfg.MigrationTimeout + readTimeoutMargin)
			if err != nil {
				return nil, err
			}
			return sql.OpenDB(conn), nil
		},
		migrations: pgMigrations,
	}
	return s, nil
}

func openSQLite(ctx context.Context, raw string, cfg Config) (*Store, error) {
	path, err := sqliteFile(raw)
	if err != nil {
		return nil, err
	}
	writer, reader, err := openSQLitePools(path, cfg)
	if err != nil {
		return nil, service.WrapError(service.KindUnavailable, err, "cannot open the database")
	}
	d := sqlitedialect.New()
	s := &Store{
		cfg:     cfg,
		writer:  bun.NewDB(writer, d),
		reader:  bun.NewDB(reader, d),
		dialect: d,
		migrationDB: func() (*sql.DB, error) {
			return sql.Open("sqlite", sqliteDSN(path, cfg.StatementTimeout.Milliseconds(), true))
		},
		migrations: sqliteMigrations,
	}
	// The writer goes first: it creates the file and switches it to WAL
	// before any reader opens it.
	for _, db := range []*bun.DB{s.writer, s.reader} {
		if err := db.PingContext(ctx); err != nil {
			s.Close()
			return nil, s.translate(ctx, err)
		}
	}
	return s, nil
}

// Backend returns "postgres" or "sqlite", for logs.
func (s *Store) Backend() string {
	if s.postgres {
		return "postgres"
	}
	return "sqlite"
}

// Close closes the connection pools.
func (s *Store) Close() error {
	err := s.writer.Close()
	if s.reader != s.writer {
		err = errors.Join(err, s.reader.Close())
	}
	return err
}

// Ping reports whether the database answers: nil, or an Unavailable or
// Deadline error.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StatementTimeout)
	defer cancel()
	if err := s.reader.PingContext(ctx); err != nil {
		return s.translate(ctx, err)
	}
	if s.writer != s.reader {
		return s.translate(ctx, s.writer.PingContext(ctx))
	}
	return nil
}

// maxAttempts bounds how often a transaction is tried when the database
// asks for a retry (serialization failure, deadlock) or it lost a race.
const maxAttempts = 4

type txMode int

const (
	readTx txMode = iota
	writeTx
)

// run runs fn in one transaction and translates its error. On PostgreSQL
// the transaction begins with SET LOCAL statement_timeout: a session
// setting would stay on a server connection that PgBouncer in transaction
// mode hands to other clients, and PgBouncer rejects it as a startup
// parameter. On SQLite, which has no server to time out, the context gets
// the timeout instead (and SQLite's busy_timeout bounds waiting for the
// write lock). A transaction the database asks to retry is tried again, up
// to maxAttempts in all.
func (s *Store) run(ctx context.Context, mode txMode, fn func(ctx context.Context, tx bun.Tx) error) error {
	db := s.reader
	if mode == writeTx {
		db = s.writer
	}
	ctx, cancel := s.sqliteTimeout(ctx)
	defer cancel()
	var err error
	for attempt := 1; ; attempt++ {
		err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if s.postgres {
				if _, err := tx.ExecContext(ctx, s.setTimeout(ctx)); err != nil {
					return err
				}
			}
			return fn(ctx, tx)
		})
		if err == nil || attempt == maxAttempts || !retryable(err) || ctx.Err() != nil {
			break
		}
		// Jittered backoff: 5-10ms, 10-20ms, 20-40ms.
		d := time.Duration(5<<(attempt-1)) * time.Millisecond
		d += rand.N(d)
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	return s.translate(ctx, err)
}

// setTimeout returns the SET LOCAL statement_timeout that starts every
// PostgreSQL transaction: the configured timeout, or what is left of the
// caller's deadline when that is shorter. pgdriver only closes its socket
// when the deadline passes, which a backend waiting for a lock does not
// notice; the server-side timeout makes the database stop working on a call
// nobody waits for any more.
func (s *Store) setTimeout(ctx context.Context) string {
	d := s.cfg.StatementTimeout
	if deadline, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(deadline))
	}
	// 0 would mean no timeout at all.
	return "SET LOCAL statement_timeout = " + strconv.FormatInt(max(d.Milliseconds(), 1), 10)
}

// sqliteTimeout bounds an SQLite operation, which has no server-side
// timeout: a little longer than the busy timeout, so that waiting for the
// write lock ends as "busy" (unavailable) rather than as a timeout.
func (s *Store) sqliteTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.postgres {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.cfg.StatementTimeout+time.Second)
}

// query runs one read-only statement and scans its rows into dest (a
// slice). On PostgreSQL it goes in one simple-query message, "SET LOCAL
// statement_timeout = N; <query>": PostgreSQL runs such a message as one
// implicit transaction, so the timeout covers the query and ends with it.
// One round trip, instead of four for BEGIN, SET LOCAL, the query and
// COMMIT, and no session state for PgBouncer to hand to another client.
func (s *Store) query(ctx context.Context, q *bun.SelectQuery, dest any) error {
	ctx, cancel := s.sqliteTimeout(ctx)
	defer cancel()
	text := q.String()
	if s.postgres {
		text = s.setTimeout(ctx) + "; " + text
	}
	// The *sql.DB, not bun's: the text is formatted already, and bun
	// would look for placeholders in it again.
	rows, err := s.reader.DB.QueryContext(ctx, text)
	if err == nil {
		err = s.reader.ScanRows(ctx, rows, dest)
	}
	return s.translate(ctx, err)
}
