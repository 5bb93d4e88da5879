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
	"syscall"
	"time"

	"github.com/example/tasks"
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

// translate turns any error of a database operation into a tasks.Error:
// errors that already are one pass through; the rest get the kind their
// SQLSTATE, SQLite code or network failure means, with a plain message
// and the driver's error kept as the cause. It is the one place that maps
// driver errors.
func translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var te *tasks.Error
	if errors.As(err, &te) {
		return te
	}
	if done(ctx) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return tasks.WrapError(tasks.KindDeadline, err, msgDeadline)
	}
	kind, msg := classify(err)
	return tasks.WrapError(kind, err, msg)
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

func classify(err error) (tasks.ErrorKind, string) {
	for _, d := range dialects {
		if kind, msg, ok := d.classify(err); ok {
			return kind, msg
		}
	}
	if errors.Is(err, errRetry) {
		return tasks.KindUnavailable, msgBusy
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
		errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		return tasks.KindUnavailable, msgUnavailable
	}
	return tasks.KindInternal, msgInternal
}

// retryable reports whether a transaction that failed with err may succeed
// when tried again.
func (s *Store) retryable(err error) bool {
	return errors.Is(err, errRetry) || s.dialect.retryable(err)
}
