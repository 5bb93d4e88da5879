package tasks

import (
	"context"
	"errors"
	"fmt"
)

// ErrorKind says what went wrong in terms a caller can act on. The server
// maps each kind to one Connect code and ErrorInfo reason.
type ErrorKind int

// The error kinds.
const (
	KindInternal        ErrorKind = iota // a bug or an unexpected failure
	KindInvalid                          // the request cannot be served as asked
	KindNotFound                         // no such task for this user
	KindConflict                         // a stale etag
	KindUnavailable                      // the database is unreachable or overloaded
	KindDeadline                         // the caller's deadline passed or it went away
	KindUnauthenticated                  // no valid credentials
	KindCursorExpired                    // a sync cursor older than the changes still remembered
	KindTooManyWatches                   // the caller, or the server, has as many open watches as allowed
	KindQuotaExceeded                    // the user has as many tasks as allowed
	KindTooManyRequests                  // the caller has as many calls in flight as its share, or exceeds its rate
)

var kindNames = [...]string{"internal", "invalid", "not found", "conflict", "unavailable", "deadline", "unauthenticated", "cursor expired", "too many watches", "quota exceeded", "too many requests"}

func (k ErrorKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// Error is the one error type the domain returns. Message is safe to show a
// client; Err is the cause, for logs only (it may hold driver text).
type Error struct {
	Kind ErrorKind
	// Field names the request field an Invalid error is about, as the API
	// spells it ("title", "tags", "due_time"), so a client can show the
	// message beside the right input; empty when the error is about the
	// request as a whole.
	Field   string
	Message string
	Err     error
}

// Errorf returns an *Error of the given kind with a client-safe message.
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an Invalid *Error about one request field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error of the given kind with a client-safe message
// and the cause kept for logs.
func WrapError(kind ErrorKind, cause error, message string) *Error {
	return &Error{Kind: kind, Message: message, Err: cause}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of err: the Kind of an *Error in its chain,
// KindDeadline for context errors, and KindInternal for anything else.
func KindOf(err error) ErrorKind {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Kind
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return KindDeadline
	default:
		return KindInternal
	}
}

// ErrNotFound is what every store answers for a task that does not exist
// or is not the caller's: the two look exactly alike.
func ErrNotFound() *Error { return Errorf(KindNotFound, "task not found") }

// ErrQuotaExceeded is what a create answers when the user already has the
// most tasks a store allows (limit).
func ErrQuotaExceeded(limit int) *Error {
	return Errorf(KindQuotaExceeded, "at most %d tasks per user; delete some to add more", limit)
}

// ErrETagMismatch is what a write with a stale etag answers.
func ErrETagMismatch() *Error {
	return Errorf(KindConflict, "the task has changed since its etag was read")
}
