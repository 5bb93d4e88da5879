package storage

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/example/tasks/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backend is a database the suite runs against.
type backend struct {
	name string
	// url returns the URL of a new, empty database.
	url func(tb testing.TB) string
	// simple: the store must not prepare statements (Debian's PgBouncer
	// is 1.18, which cannot keep them in transaction mode).
	simple bool
}

// config returns the Config of a store on a new, empty database of b.
func (b backend) config(tb testing.TB) Config {
	return Config{URL: b.url(tb), SimpleProtocol: b.simple}
}

// backends are PostgreSQL, PostgreSQL through PgBouncer in transaction
// pooling mode, and SQLite. The PostgreSQL ones skip (fail under CI=true)
// when no PostgreSQL can be had.
var backends = []backend{
	{"postgres", pgtest.NewDatabase, false},
	{"pgbouncer", pgtest.NewBouncedDatabase, true},
	{"sqlite", func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "tasks.db") }, false},
}

func pgBackends() []backend { return backends[:2] }

// mustOpen opens a store on url and closes it when the test ends.
func mustOpen(tb testing.TB, cfg Config) *Store {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// eachBackend runs test against each backend, in parallel.
func eachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, b)
		})
	}
}

// mustMigratedStore opens a store on a new database of b and migrates it.
func mustMigratedStore(tb testing.TB, b backend) *Store {
	tb.Helper()
	return mustMigrated(tb, mustOpen(tb, b.config(tb)))
}

// mustMigrated migrates s and returns it.
func mustMigrated(tb testing.TB, s *Store) *Store {
	tb.Helper()
	if _, err := s.MigrateUp(testContext(tb)); err != nil {
		tb.Fatalf("MigrateUp: %v", err)
	}
	return s
}

// testContext returns a context that ends with the test, or after a
// minute: a hung database fails the test rather than the whole binary.
func testContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	tb.Cleanup(cancel)
	return ctx
}
