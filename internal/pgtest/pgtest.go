package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// Cluster is the PostgreSQL server of one test binary.
type Cluster struct {
	admin *url.URL // a superuser's URL of the maintenance database
	db    *sql.DB  // pool on admin, for CREATE and DROP DATABASE
	local *local   // the cluster this binary started; nil for TEST_DATABASE_URL
	seq   atomic.Int64
}

var shared struct {
	clusterOnce sync.Once
	cluster     *Cluster
	clusterErr  error

	bouncerOnce sync.Once
	bouncer     *Bouncer
	bouncerErr  error
}

// unavailable is the one rule for a test whose PostgreSQL (or PgBouncer)
// cannot be had: it skips locally and fails under CI=true, so CI never
// passes by skipping the database tests.
func unavailable(tb testing.TB, what string, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("pgtest: %s is required when CI=true: %v", what, err)
		return
	}
	tb.Skipf("pgtest: skipping: %s is not available (%v); install postgresql-15 and pgbouncer, or set TEST_DATABASE_URL", what, err)
}

// Main runs a package's tests and then stops the cluster and PgBouncer this
// binary started, whatever the outcome. Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	stopShared()
	os.Exit(code)
}

func stopShared() {
	if b := shared.bouncer; b != nil {
		b.proc.stop()
		_ = os.RemoveAll(b.dir)
	}
	if c := shared.cluster; c != nil {
		c.Stop()
	}
}

// Require returns the binary's cluster, starting it on first use: the
// server of TEST_DATABASE_URL when that is set, else a new cluster in a
// temporary directory. It skips the test (fails it under CI=true) when
// neither can be had.
func Require(tb testing.TB) *Cluster {
	tb.Helper()
	shared.clusterOnce.Do(func() {
		shared.cluster, shared.clusterErr = startCluster()
	})
	if shared.clusterErr != nil {
		unavailable(tb, "PostgreSQL", shared.clusterErr)
	}
	return shared.cluster
}

// NewDatabase creates an empty database on the binary's cluster, drops it
// when the test ends, and returns its URL.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	return Require(tb).NewDatabase(tb)
}

func startCluster() (*Cluster, error) {
	if s := os.Getenv("TEST_DATABASE_URL"); s != "" {
		u, err := url.Parse(s)
		if err != nil {
			return nil, errors.New("TEST_DATABASE_URL is not a URL")
		}
		return connect(u, nil)
	}
	return Start(Options{})
}

func connect(admin *url.URL, l *local) (*Cluster, error) {
	db := openDB(admin.String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connecting to %s: %w", redacted(admin), err)
	}
	return &Cluster{admin: admin, db: db, local: l}, nil
}

func openDB(dsn string) *sql.DB {
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn), pgdriver.WithTimeout(30*time.Second)))
	db.SetMaxOpenConns(4)
	return db
}

// NewDatabase creates an empty database, drops it when the test ends, and
// returns its URL.
func (c *Cluster) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("pgtest_%d_%d", os.Getpid(), c.seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := c.db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database: %v", err)
		}
	})
	u := *c.admin
	u.Path = "/" + name
	return u.String()
}

// Exec runs a statement as the cluster's superuser, for tests that need to
// set something up outside a test database (roles, for instance).
func (c *Cluster) Exec(tb testing.TB, query string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.db.ExecContext(ctx, query); err != nil {
		tb.Fatalf("pgtest: %s: %v", query, err)
	}
}

func redacted(u *url.URL) string { return u.Redacted() }
