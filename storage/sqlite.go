package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"modernc.org/sqlite"

	"github.com/example/tasks"
)

func openSQLite(ctx context.Context, raw string, cfg Config) (*Store, error) {
	path, err := sqliteFile(raw)
	if err != nil {
		return nil, err
	}
	writer, reader, err := openSQLitePools(path, cfg)
	if err != nil {
		return nil, tasks.WrapError(tasks.KindUnavailable, err, "cannot open the database")
	}
	d := sqlitedialect.New()
	s := &Store{
		cfg:        cfg,
		dialect:    sqliteDialect{},
		reads:      newReadSQL(sqliteDialect{}),
		writer:     bun.NewDB(writer, d),
		reader:     bun.NewDB(reader, d),
		bunDialect: d,
		migrationDB: func() (*sql.DB, error) {
			return sql.Open("sqlite", sqliteDSN(path, cfg.StatementTimeout.Milliseconds(), true))
		},
		migrations: sqliteMigrations,
		stmts:      newStmtCache(),
	}
	// The writer goes first: it creates the file and switches it to WAL
	// before any reader opens it.
	for _, db := range []*bun.DB{s.writer, s.reader} {
		if err := db.PingContext(ctx); err != nil {
			s.Close()
			return nil, translate(ctx, err)
		}
	}
	return s, nil
}

// sqliteFile returns the absolute path of the SQLite database a URL names:
// a path, or a file: URL without parameters (the store sets its own).
func sqliteFile(raw string) (string, error) {
	path := raw
	if strings.HasPrefix(raw, "file:") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", invalidURL("not a file: URL")
		}
		if u.RawQuery != "" {
			return "", invalidURL("file: URL parameters are not supported")
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", invalidURL("file: URL with a host")
		}
		path = u.Path
		if u.Opaque != "" {
			if path, err = url.PathUnescape(u.Opaque); err != nil {
				return "", invalidURL("bad file: URL")
			}
		}
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file::memory:") {
		return "", invalidURL("an SQLite database must be a file")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", invalidURL("bad SQLite path")
	}
	return abs, nil
}

// sqliteDSN returns the modernc.org/sqlite data source name of path, with
// the settings every connection gets: WAL (readers never wait for the
// writer), a busy timeout, foreign keys, and synchronous=NORMAL (safe in
// WAL mode; a power cut may lose the last commits, never corrupt).
// The writer's transactions start with BEGIN IMMEDIATE, so a writer takes
// the write lock up front instead of failing to upgrade a read lock.
// Readers are query_only.
func sqliteDSN(path string, busy int64, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy, 10)+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// sqliteLower is the SQL function ListTasks's query filter uses on SQLite:
// Go's Unicode lower-casing. SQLite's own lower() knows only ASCII.
const sqliteLower = "tasks_lower"

var registerSQLiteFuncs = sync.OnceValue(func() error {
	return sqlite.RegisterDeterministicScalarFunction(sqliteLower, 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case string:
				return strings.ToLower(v), nil
			case []byte:
				return strings.ToLower(string(v)), nil
			default:
				return v, nil
			}
		})
})

// openSQLitePools opens the writer (one connection: SQLite has one writer
// at a time, and queueing in Go is cheaper than spinning on the file lock)
// and a pool of readers.
func openSQLitePools(path string, cfg Config) (writer, reader *sql.DB, err error) {
	if err := registerSQLiteFuncs(); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, err
	}
	busy := cfg.StatementTimeout.Milliseconds()
	writer, err = sql.Open("sqlite", sqliteDSN(path, busy, true))
	if err != nil {
		return nil, nil, err
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	reader, err = sql.Open("sqlite", sqliteDSN(path, busy, false))
	if err != nil {
		writer.Close()
		return nil, nil, err
	}
	reader.SetMaxOpenConns(cfg.MaxOpenConns)
	reader.SetMaxIdleConns(cfg.MaxIdleConns)
	reader.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	reader.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	return writer, reader, nil
}
