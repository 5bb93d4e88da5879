package storage

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/example/tasks"
)

// sqliteDialect is the embedded SQLite file: one writer connection, whose
// transactions start with BEGIN IMMEDIATE and so hold the write lock from
// their start, and a pool of readers. Times are INTEGER microseconds since
// the Unix epoch (exact round trips, sorting as times do); tags a JSON
// array of strings.
type sqliteDialect struct{}

func (sqliteDialect) name() string { return "sqlite" }

// bound gives the context the timeout, since SQLite has no server to time
// out: a little longer than the busy timeout, so that waiting for the
// write lock ends as "busy" (unavailable) rather than as a timeout.
func (sqliteDialect) bound(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc, string) {
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Second)
	return ctx, cancel, ""
}

func (sqliteDialect) writes() *oneCallWrites { return nil }

// setDefaults: SQLite has no server to keep settings; bound and the
// connection's busy_timeout do it all.
func (sqliteDialect) setDefaults(context.Context, bun.IDB, time.Duration) (bool, error) {
	return false, nil
}

// lockRow needs no lock: the write transaction holds the database's.
func (sqliteDialect) lockRow(q *bun.SelectQuery) *bun.SelectQuery { return q }

// beginMigration takes the write lock, which also serializes migrations.
func (sqliteDialect) beginMigration(time.Duration) []string { return []string{"BEGIN IMMEDIATE"} }

// lockMigration: beginMigration took the lock.
func (sqliteDialect) lockMigration() string { return "" }

// txID is 0: an embedded connection cannot be swapped under us.
func (sqliteDialect) txID(context.Context, bun.IDB) (int64, error) { return 0, nil }

func (sqliteDialect) hasTag() string {
	return "EXISTS (SELECT 1 FROM json_each(t.tags) WHERE json_each.value = ?)"
}

// containsText lower-cases with sqliteLower: SQLite's own lower() knows
// only ASCII.
func (sqliteDialect) containsText() string {
	return "(instr(" + sqliteLower + "(t.title), ?0) > 0 OR instr(" + sqliteLower + "(t.description), ?0) > 0)"
}

func (sqliteDialect) dueKey() string { return "COALESCE(t.due_time, 9223372036854775807)" }

// selectTime: as stored, an integer the driver reads as it is.
func (sqliteDialect) selectTime(col string) string { return col }

func (sqliteDialect) appendTime(b []byte, t time.Time) []byte {
	return strconv.AppendInt(b, t.UnixMicro(), 10)
}

func (sqliteDialect) appendInfinity(b []byte) []byte { return append(b, "9223372036854775807"...) }

func (sqliteDialect) appendTags(gen schema.QueryGen, b []byte, tags []string) ([]byte, error) {
	js, err := json.Marshal(tags)
	if err != nil {
		return nil, err
	}
	return gen.Dialect().AppendString(b, string(js)), nil
}

// param: times are microseconds, tags a JSON array (see appendTime and
// appendTags).
func (sqliteDialect) param(v any) any {
	switch v := v.(type) {
	case dbTime:
		if !v.Valid {
			return nil
		}
		return v.T.UnixMicro()
	case infinity:
		return int64(math.MaxInt64)
	case tagList:
		tags := []string(v)
		if tags == nil {
			tags = []string{}
		}
		js, _ := json.Marshal(tags) // a []string always marshals
		return string(js)
	case int16:
		return int64(v)
	}
	return v
}

func (sqliteDialect) classify(err error) (tasks.ErrorKind, string, bool) {
	var liteErr *sqlite.Error
	if !errors.As(err, &liteErr) {
		return 0, "", false
	}
	kind, msg := sqliteKind(liteErr.Code())
	return kind, msg, true
}

// sqliteKind maps an SQLite (extended) result code to an error kind.
func sqliteKind(code int) (tasks.ErrorKind, string) {
	switch code {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return tasks.KindConflict, msgConflict
	}
	switch code & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return tasks.KindUnavailable, msgBusy
	case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
		return tasks.KindInvalid, msgRejected
	case sqlite3.SQLITE_INTERRUPT:
		return tasks.KindDeadline, msgTimeout
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_PERM, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_PROTOCOL:
		return tasks.KindUnavailable, msgUnavailable
	}
	return tasks.KindInternal, msgInternal
}

// retryable is false: SQLITE_BUSY is not retried, busy_timeout has waited
// already.
func (sqliteDialect) retryable(error) bool { return false }
