package storage

import (
	"context"
	"time"

	"github.com/uptrace/bun"
	bundialect "github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"

	"github.com/example/tasks"
)

// dialect is everything PostgreSQL and SQLite do differently, behind one
// seam: dialect_postgres.go and dialect_sqlite.go each implement it, and
// nothing else in the package asks which database it is on.
type dialect interface {
	// name is "postgres" or "sqlite", for logs.
	name() string
	// bound bounds one operation by timeout (or the caller's deadline, if
	// sooner). It returns the context to run it with and, when the
	// database needs to be told the bound, the statement that must open
	// the operation's transaction (or precede its single statement in the
	// same message); "" when there is none.
	bound(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc, string)
	// setDefaults makes the database bound every new session of the
	// store by timeout on its own, and reports whether that changed
	// anything (see defaults_postgres.go); false, nil where it has no
	// such settings.
	setDefaults(ctx context.Context, db bun.IDB, timeout time.Duration) (bool, error)
	// writes are the statements that make each write one call, nil where
	// a write is a transaction of several (see writes_postgres.go).
	writes() *oneCallWrites
	// lockRow makes a read inside a write transaction lock the row it
	// reads until the transaction ends.
	lockRow(q *bun.SelectQuery) *bun.SelectQuery
	// beginMigration is what opens a migration's transaction, and
	// lockMigration the query that then tries to take the lock that
	// serializes migrations of replicas starting at once, answering
	// whether it did ("" when beginMigration takes it).
	beginMigration(timeout time.Duration) []string
	lockMigration() string
	// txID identifies the current transaction of db's one connection, so
	// a migration can check its statements all ran in one.
	txID(ctx context.Context, db bun.IDB) (int64, error)

	// hasTag is the list filter on one tag, with one placeholder.
	hasTag() string
	// containsText is the list filter on a text query (lower-cased), with
	// placeholder ?0: a literal substring of the title or description,
	// case-insensitive.
	containsText() string
	// dueKey is the sort key of DUE_TIME_ASC: the due time, with tasks
	// without one last. The due-time index is on this same expression.
	dueKey() string

	// selectTime is how a query selects the time column col (named col
	// in its result): in a form the driver reads whatever the column holds
	// (see dbTime.Scan), so that one odd row cannot fail a whole read.
	selectTime(col string) string

	// appendTime, appendInfinity and appendTags write a value into SQL
	// (see dbTime, infinity and tagList).
	appendTime(b []byte, t time.Time) []byte
	appendInfinity(b []byte) []byte
	appendTags(gen schema.QueryGen, b []byte, tags []string) ([]byte, error)

	// param is a value as the driver takes it as a statement's parameter
	// (see params): dbTime, infinity and tagList in this database's form.
	param(v any) any

	// classify says what a driver error of this database means, ok false
	// when err is not one.
	classify(err error) (kind tasks.ErrorKind, msg string, ok bool)
	// retryable reports whether a transaction that failed with err (a
	// driver error) may succeed when tried again.
	retryable(err error) bool
}

// dialects are the databases the store knows.
var dialects = []dialect{postgresDialect{}, sqliteDialect{}}

// dialectOf returns the dialect of the bun query a value is written into.
func dialectOf(gen schema.QueryGen) dialect {
	if gen.Dialect().Name() == bundialect.SQLite {
		return sqliteDialect{}
	}
	return postgresDialect{}
}
