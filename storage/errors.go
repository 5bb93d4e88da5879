package storage

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/example/tasks/service"
)

// The client-safe messages of translated errors. Driver text only ever
// goes into the cause.
const (
	msgUnavailable = "the database is unavailable"
	msgBusy        = "the database is busy; try again"
	msgTimeout     = "the database took too long"
	msgDeadline    = "deadline exceeded"
	msgRejected    = "the database rejected a value"
	msgConflict    = "a conflicting change was made at the same time"
	msgInternal    = "internal error"
)

// errRetry asks run to try a transaction again: it lost a race that a new
// attempt will not.
var errRetry = errors.New("storage: lost a race; retry")

func notFound() error { return service.Errorf(service.KindNotFound, "task not found") }

// translate turns any error of a database operation into a service.Error:
// errors that already are one pass through; the rest get the kind their
// SQLSTATE, SQLite code or network failure means, with a plain message
// and the driver's error kept as the cause. It is the one place that maps
// driver errors.
func (s *Store) translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var se *service.Error
	if errors.As(err, &se) {
		return se
	}
	if done(ctx) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return service.WrapError(service.KindDeadline, err, msgDeadline)
	}
	kind, msg := classify(err)
	return service.WrapError(kind, err, msg)
}

// done reports whether ctx is cancelled or past its deadline. The deadline
// is checked too: pgdriver's socket deadline is the context's, and its
// timeout can surface before the context's own timer has fired (on a busy
// machine), which would otherwise read as a broken connection.
func done(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	deadline, ok := ctx.Deadline()
	return ok && !time.Now().Before(deadline)
}

func classify(err error) (service.ErrorKind, string) {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		return sqlStateKind(pgErr.Field('C'))
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return sqliteKind(liteErr.Code())
	}
	if errors.Is(err, errRetry) {
		return service.KindUnavailable, msgBusy
	}
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		strings.HasPrefix(err.Error(), "pgdriver: TLS handshake failed"),
		strings.Contains(err.Error(), errNoServerTLS):
		return service.KindUnavailable, msgUnavailable
	}
	return service.KindInternal, msgInternal
}

// sqlStateKind maps a PostgreSQL SQLSTATE to an error kind.
// https://www.postgresql.org/docs/current/errcodes-appendix.html
func sqlStateKind(code string) (service.ErrorKind, string) {
	class := code[:min(2, len(code))]
	switch {
	case code == "40001", code == "40P01": // serialization failure, deadlock (after retries)
		return service.KindUnavailable, msgBusy
	case code == "23505": // unique violation
		return service.KindConflict, msgConflict
	case code == "57014": // query canceled: statement_timeout
		return service.KindDeadline, msgTimeout
	case class == "23", class == "22": // integrity constraint, data exception
		return service.KindInvalid, msgRejected
	case code == "55P03", // lock not available
		code == "25006", // read-only transaction: a standby, or a failover under way
		class == "08",   // connection exception (PgBouncer reports its own errors so too)
		class == "28",   // invalid authorization
		class == "53",   // insufficient resources: too many connections, out of memory or disk
		class == "57",   // operator intervention: shutdown, cannot connect now
		class == "58",   // system error
		code == "3D000": // the database does not exist
		return service.KindUnavailable, msgUnavailable
	}
	return service.KindInternal, msgInternal
}

// sqliteKind maps an SQLite (extended) result code to an error kind.
func sqliteKind(code int) (service.ErrorKind, string) {
	switch code {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return service.KindConflict, msgConflict
	}
	switch code & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return service.KindUnavailable, msgBusy
	case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
		return service.KindInvalid, msgRejected
	case sqlite3.SQLITE_INTERRUPT:
		return service.KindDeadline, msgTimeout
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_PERM, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_PROTOCOL:
		return service.KindUnavailable, msgUnavailable
	}
	return service.KindInternal, msgInternal
}

// retryable reports whether a transaction that failed with err may succeed
// when tried again.
func retryable(err error) bool {
	if errors.Is(err, errRetry) {
		return true
	}
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		code := pgErr.Field('C')
		return code == "40001" || code == "40P01"
	}
	// SQLITE_BUSY is not retried: busy_timeout has waited already.
	return false
}
