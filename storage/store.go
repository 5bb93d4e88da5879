package storage

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
	"github.com/uptrace/bun/schema"
	"go.opentelemetry.io/otel/metric"

	"github.com/example/tasks"
)

// Store keeps tasks in PostgreSQL or SQLite. It is safe for concurrent use.
type Store struct {
	cfg     Config
	dialect dialect
	reads   readSQL // in dialect's words
	// writer runs writes, reader reads: the same pool on PostgreSQL; on
	// SQLite the single writer connection and a pool of readers.
	writer, reader *bun.DB
	bunDialect     schema.Dialect
	// stmts are the prepared statements of reads; nil when statements are
	// not prepared (SQLite, or Config.SimpleProtocol).
	stmts *stmtCache
	// migrationDB opens a one-connection pool for a migration.
	migrationDB func() (*sql.DB, error)
	migrations  migrationSet
	// migrateAlone, when not nil, applies (up) or rolls back one migration
	// marked noTxDirective, outside a transaction, and returns its name
	// when it did; nil where every migration runs in a transaction
	// (SQLite).
	migrateAlone func(ctx context.Context, mig migrate.Migration, up bool) ([]string, error)

	keyMu sync.Mutex
	key   []byte // the page token key, once loaded

	// listener hears of this process's commits (see Listen).
	listener atomic.Pointer[CommitListener]
	// notifier, while Listen runs on PostgreSQL, tells other replicas.
	notifier atomic.Pointer[notifier]
	// notifications, when not nil, hears of other processes' commits until
	// ctx ends.
	notifications func(ctx context.Context, l CommitListener)

	// queryHook, when not nil, is told of every query (traced): spans.
	queryHook bun.QueryHook
	// pools, when not nil, reports the pools' numbers until Close.
	pools metric.Registration
}

var _ tasks.TaskStore = (*Store)(nil)

// Open returns a store for cfg.URL. It checks the URL and prepares the
// connection pools but does not connect to PostgreSQL (Ping does), so a
// server can start while its database is still coming up; an SQLite file
// and its directory are created. It does not change the schema: call
// MigrateUp before serving.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	raw := strings.TrimSpace(cfg.URL)
	var s *Store
	var err error
	switch {
	case raw == "":
		return nil, invalidURL("empty")
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		s, err = openPostgres(raw, cfg.withDefaults(defaultPGMaxOpenConns))
	case strings.Contains(raw, "://"):
		return nil, invalidURL("unsupported scheme (want postgres://, postgresql://, file: or a path)")
	default:
		s, err = openSQLite(ctx, raw, cfg.withDefaults(defaultSQLiteReaders))
	}
	if err != nil {
		return nil, err
	}
	if err := s.instrument(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// instrument adds the telemetry cfg asks for: query spans on both pools
// (Bun's queries and the store's own, see traced) and the pools' numbers.
func (s *Store) instrument() error {
	if s.queryHook = newQueryHook(s.cfg.Tracer); s.queryHook != nil {
		writer := s.writer.WithQueryHook(s.queryHook)
		if s.reader == s.writer {
			s.reader = writer
		} else {
			s.reader = s.reader.WithQueryHook(s.queryHook)
		}
		s.writer = writer
	}
	if s.cfg.Meter == nil {
		return nil
	}
	var err error
	s.pools, err = s.reportPools(s.cfg.Meter)
	return err
}

func invalidURL(format string, args ...any) error {
	return tasks.Errorf(tasks.KindInvalid, "database URL: "+format, args...)
}

// Backend returns "postgres" or "sqlite", for logs.
func (s *Store) Backend() string { return s.dialect.name() }

// Close closes the connection pools.
func (s *Store) Close() error {
	if s.pools != nil {
		_ = s.pools.Unregister()
	}
	s.stmts.close()
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
		return translate(ctx, err)
	}
	if s.writer != s.reader {
		return translate(ctx, s.writer.PingContext(ctx))
	}
	return nil
}
