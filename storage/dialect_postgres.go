package storage

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/schema"

	"github.com/example/tasks"
)

// postgresDialect is PostgreSQL, directly or through PgBouncer in
// transaction pooling mode: no session state may outlive a transaction.
type postgresDialect struct {
	// setLocal bounds each transaction and single statement with SET
	// LOCAL statement_timeout (Config.SimpleProtocol), rather than relying
	// on the role's defaults alone.
	setLocal bool
}

func (postgresDialect) name() string { return "postgres" }

// bound: the database bounds every statement by the role's defaults
// (setDefaults, applied by MigrateUp), and a caller's deadline reaches the
// database as a closed socket, which the backend notices within
// clientCheckInterval (pgdriver sends no cancel request). So nothing per
// call, and statements can be prepared; no session state either, which
// PgBouncer in transaction mode would hand to other clients.
//
// With setLocal (the simple protocol, for PgBouncer before 1.21, where
// server connections made before the defaults changed keep the old ones
// for up to server_lifetime), it also returns SET LOCAL statement_timeout:
// the timeout, or what is left of the caller's deadline when that is
// shorter. LOCAL, to the transaction or the one message a single statement
// goes in.
func (d postgresDialect) bound(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc, string) {
	if !d.setLocal {
		return ctx, func() {}, ""
	}
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(deadline))
	}
	// 0 would mean no timeout at all.
	return ctx, func() {}, "SET LOCAL statement_timeout = " + strconv.FormatInt(max(timeout.Milliseconds(), 1), 10)
}

func (postgresDialect) writes() *oneCallWrites { return postgresWrites }

func (postgresDialect) lockRow(q *bun.SelectQuery) *bun.SelectQuery { return q.For("UPDATE") }

// migrationLockKey is the PostgreSQL advisory lock that serializes
// migrations of replicas starting at once (an arbitrary constant).
const migrationLockKey int64 = 0x7461736b73_6d6967 // "tasksmig"

// beginMigration bounds the migration's transaction: once it has the lock
// (lockMigration), a migration waits at most migrationLockTimeout for any
// other lock: DDL waiting for a table's lock behind a long query would
// queue every call to that table behind itself.
func (postgresDialect) beginMigration(timeout time.Duration) []string {
	return []string{
		"BEGIN",
		fmt.Sprintf("SET LOCAL statement_timeout = %d", timeout.Milliseconds()),
		fmt.Sprintf("SET LOCAL lock_timeout = %d", migrationLockTimeout.Milliseconds()),
	}
}

// lockMigration tries a transaction-level advisory lock: a session-level
// one would not do, since through PgBouncer in transaction mode the session
// is not ours between transactions (a migration run outside a transaction
// takes it at the session level, on a session of its own: see
// migrateAlonePostgres).
func (postgresDialect) lockMigration() string {
	return fmt.Sprintf("SELECT pg_try_advisory_xact_lock(%d)", migrationLockKey)
}

// migrationLockTimeout bounds a migration's wait for a table lock.
const migrationLockTimeout = 5 * time.Second

func (postgresDialect) txID(ctx context.Context, db bun.IDB) (int64, error) {
	var id int64
	err := db.QueryRowContext(ctx, "SELECT txid_current()").Scan(&id)
	return id, err
}

func (postgresDialect) hasTag() string { return "? = ANY(t.tags)" }

// containsText is a position search, not LIKE: the query is literal, %, _
// and \ included, with nothing to escape.
func (postgresDialect) containsText() string {
	return "(strpos(lower(t.title), ?0) > 0 OR strpos(lower(t.description), ?0) > 0)"
}

func (postgresDialect) dueKey() string { return "COALESCE(t.due_time, 'infinity'::timestamptz)" }

func (d postgresDialect) appendTime(b []byte, t time.Time) []byte {
	b = append(b, '\'')
	b = d.appendTimeText(b, t)
	return append(b, "'::timestamptz"...)
}

// selectTime: as text, which dbTime.Scan parses with parseTimeText.
// pgdriver parses a timestamptz itself and fails the whole statement on
// one it cannot read (a year past 9999, BC, infinity), which a row written
// before the domain refused such times, or by hand, may hold. (The cast
// keeps the column's name, and costs what pgdriver's own parse did.)
func (postgresDialect) selectTime(col string) string { return col + "::text" }

// parseTimeText reads a timestamptz as PostgreSQL writes it (DateStyle
// ISO): what pgdriver reads, and also what the column holds but Go's
// layouts cannot, years past 9999 or BC and ±infinity, as times outside
// the API's range (infinity as SQLite's sentinel), for the service to
// clamp.
func parseTimeText(s string) (time.Time, error) {
	switch s {
	case "infinity":
		return time.UnixMicro(math.MaxInt64).UTC(), nil
	case "-infinity":
		return time.UnixMicro(math.MinInt64).UTC(), nil
	}
	if t, err := pgdriver.ParseTime(s); err == nil {
		return t.UTC(), nil
	}
	rest, bc := strings.CutSuffix(s, " BC")
	dash := strings.IndexByte(rest, '-')
	year, err := strconv.Atoi(rest[:max(dash, 0)])
	if err != nil {
		return time.Time{}, fmt.Errorf("storage: cannot read %q as a time", s)
	}
	t, err := pgdriver.ParseTime("2000" + rest[dash:]) // 2000 has a February 29th
	if err != nil {
		return time.Time{}, fmt.Errorf("storage: cannot read %q as a time", s)
	}
	if bc {
		year = 1 - year // 1 BC is year 0
	}
	return t.AddDate(year-2000, 0, 0).UTC(), nil
}

// appendTimeText writes t as PostgreSQL reads a timestamptz.
func (postgresDialect) appendTimeText(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, "2006-01-02 15:04:05.999999-07:00")
}

func (postgresDialect) appendInfinity(b []byte) []byte {
	return append(b, "'infinity'::timestamptz"...)
}

func (postgresDialect) appendTags(gen schema.QueryGen, b []byte, tags []string) ([]byte, error) {
	b, err := pgdialect.Array(tags).AppendQuery(gen, b)
	if err != nil {
		return nil, err
	}
	return append(b, "::text[]"...), nil
}

// classify knows PostgreSQL's errors by their SQLSTATE, and pgdriver's
// failures to set up TLS, which it reports as text only.
func (postgresDialect) classify(err error) (tasks.ErrorKind, string, bool) {
	var pgErr pgdriver.Error
	switch {
	case errors.As(err, &pgErr):
		kind, msg := sqlStateKind(pgErr.Field('C'))
		return kind, msg, true
	case strings.HasPrefix(err.Error(), "pgdriver: TLS handshake failed"),
		strings.Contains(err.Error(), errNoServerTLS):
		return tasks.KindUnavailable, msgUnavailable, true
	}
	return 0, "", false
}

// sqlStateKind maps a PostgreSQL SQLSTATE to an error kind.
// https://www.postgresql.org/docs/current/errcodes-appendix.html
func sqlStateKind(code string) (tasks.ErrorKind, string) {
	class := code[:min(2, len(code))]
	switch {
	case code == "40001", code == "40P01": // serialization failure, deadlock (after retries)
		return tasks.KindUnavailable, msgBusy
	case code == "23505": // unique violation
		return tasks.KindConflict, msgConflict
	case code == "57014": // query canceled: statement_timeout
		return tasks.KindDeadline, msgTimeout
	case class == "23", class == "22": // integrity constraint, data exception
		return tasks.KindInvalid, msgRejected
	case code == "55P03", // lock not available
		code == "25006", // read-only transaction: a standby, or a failover under way
		class == "08",   // connection exception (PgBouncer reports its own errors so too)
		class == "28",   // invalid authorization
		class == "53",   // insufficient resources: too many connections, out of memory or disk
		class == "57",   // operator intervention: shutdown, cannot connect now
		class == "58",   // system error
		code == "3D000": // the database does not exist
		return tasks.KindUnavailable, msgUnavailable
	}
	return tasks.KindInternal, msgInternal
}

// retryable: a serialization failure or a deadlock.
func (postgresDialect) retryable(err error) bool {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		code := pgErr.Field('C')
		return code == "40001" || code == "40P01"
	}
	return false
}

// param: pgdriver sends parameters as text; the store's column types as
// PostgreSQL reads them.
func (postgresDialect) param(v any) any {
	switch v := v.(type) {
	case dbTime:
		if !v.Valid {
			return nil
		}
		// Text, not a time.Time: pgdriver sends the zero time (0001-01-01,
		// a valid due date) as NULL.
		return string(postgresDialect{}.appendTimeText(nil, v.T))
	case infinity:
		return "infinity"
	case tagList:
		return textArray(v)
	case int16:
		return int64(v)
	}
	return v
}

// textArray is a text[] value in PostgreSQL's text form: every element
// quoted, backslash and double quote escaped.
func textArray(vs []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, r := range v {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}
