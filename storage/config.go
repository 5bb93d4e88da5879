package storage

import (
	"log/slog"
	"path/filepath"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/example/tasks"
)

// Config says which database to use and how to use it. Only URL is
// required; zero fields take the defaults documented on each.
type Config struct {
	// URL selects the database. postgres:// or postgresql:// is
	// PostgreSQL, with libpq's sslmode (disable, allow, prefer, require,
	// verify-ca, verify-full), sslrootcert (a file, or "system"),
	// sslcert, sslkey, connect_timeout and application_name. Anything else
	// is an SQLite file: a path, or a file: URL.
	URL string

	// MaxOpenConns bounds the connections to PostgreSQL (default 10) or
	// the SQLite readers (default 4; SQLite always has one writer).
	MaxOpenConns int
	// MaxIdleConns is how many open connections may sit idle (default:
	// MaxOpenConns).
	MaxIdleConns int
	// ConnMaxLifetime closes connections older than this (default 30
	// minutes), so a pool follows failovers and DNS changes.
	ConnMaxLifetime time.Duration
	// ConnMaxIdleTime closes connections idle this long (default 5
	// minutes).
	ConnMaxIdleTime time.Duration

	// StatementTimeout bounds each statement on the server (PostgreSQL's
	// statement_timeout, which MigrateUp makes the default of the store's
	// role in its database) and how long SQLite waits for a lock
	// (busy_timeout) and runs an operation. Default 5 seconds.
	StatementTimeout time.Duration
	// SimpleProtocol sends every PostgreSQL statement as text in the
	// simple query protocol, each preceded by SET LOCAL statement_timeout,
	// instead of preparing the hot ones once per connection: for
	// PgBouncer before 1.21 in transaction mode, which cannot keep
	// prepared statements (1.21+ can, with max_prepared_statements, as can
	// Neon's pooler).
	SimpleProtocol bool
	// MigrationTimeout bounds a migration (each run of MigrateUp's
	// transactions, or a migration that runs outside one), including the
	// wait for another replica's migration to finish. Default 1 minute.
	MigrationTimeout time.Duration

	// ListenURL is the PostgreSQL database Listen hears other replicas'
	// commits from (LISTEN), when URL goes through a transaction-mode
	// pooler, where LISTEN does not work (PgBouncer, Neon's -pooler host):
	// a direct connection to the same database. Default: URL. Migrations
	// marked to run outside a transaction (see noTxDirective) run on it
	// too, for the same reason: they need a session of their own.
	ListenURL string
	// PollInterval is how often Listen asks watchers to look for changes
	// while it cannot hear of commits. Default 1 second.
	PollInterval time.Duration
	// ChangeRetention is how long deletions are remembered for sync
	// (ForgetDeletions). Default tasks.ChangeRetention.
	ChangeRetention time.Duration
	// MaxTasksPerUser is the most tasks one user may have: a create
	// beyond it is QuotaExceeded (a create repeating a stored one's request
	// id still returns that task). Default 0: no limit.
	MaxTasksPerUser int
	// Logger gets what the background work (Listen, ForgetDeletions) has
	// to say. Default slog.Default().
	Logger *slog.Logger

	// Tracer, when not nil, gets a span for each query made within a
	// span (a call's), from Bun's OpenTelemetry hook. Default: no spans.
	Tracer trace.TracerProvider
	// Meter, when not nil, gets the connection pools' numbers. Default:
	// none.
	Meter metric.MeterProvider
}

// The defaults of Config.
const (
	defaultPGMaxOpenConns     = 10
	defaultSQLiteReaders      = 4
	defaultConnMaxLifetime    = 30 * time.Minute
	defaultConnMaxIdleTime    = 5 * time.Minute
	defaultStatementTimeout   = 5 * time.Second
	defaultMigrationTimeout   = time.Minute
	defaultPollInterval       = time.Second
	readTimeoutMargin         = 5 * time.Second
	defaultDialTimeout        = 5 * time.Second
	defaultSocketWriteTimeout = 5 * time.Second
)

func (c Config) withDefaults(maxOpen int) Config {
	if c.MaxOpenConns <= 0 {
		c.MaxOpenConns = maxOpen
	}
	if c.MaxIdleConns <= 0 || c.MaxIdleConns > c.MaxOpenConns {
		c.MaxIdleConns = c.MaxOpenConns
	}
	if c.ConnMaxLifetime <= 0 {
		c.ConnMaxLifetime = defaultConnMaxLifetime
	}
	if c.ConnMaxIdleTime <= 0 {
		c.ConnMaxIdleTime = defaultConnMaxIdleTime
	}
	if c.StatementTimeout <= 0 {
		c.StatementTimeout = defaultStatementTimeout
	}
	if c.MigrationTimeout <= 0 {
		c.MigrationTimeout = defaultMigrationTimeout
	}
	if c.PollInterval <= 0 {
		c.PollInterval = defaultPollInterval
	}
	if c.ChangeRetention <= 0 {
		c.ChangeRetention = tasks.ChangeRetention
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// DefaultSQLitePath is the SQLite file the server uses when no database URL
// is configured: tasks.db in dataDir. Open creates the directory.
func DefaultSQLitePath(dataDir string) string {
	return filepath.Join(dataDir, "tasks.db")
}
