package service

import (
	"errors"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
)

// ErrorDomain is the ErrorInfo domain of every error the API returns.
const ErrorDomain = "tasks.v1"

// The ErrorInfo reasons a client can switch on (see the Errors table of the
// API contract).
const (
	ReasonValidation   = "VALIDATION_ERROR"
	ReasonInvalid      = "INVALID_REQUEST"
	ReasonUnauthorized = "UNAUTHORIZED"
	ReasonNotFound     = "NOT_FOUND"
	ReasonETagMismatch = "ETAG_MISMATCH"
	ReasonUnavailable  = "SERVICE_UNAVAILABLE"
	ReasonInternal     = "INTERNAL_ERROR"
)

// edge is the one table from error kinds to what a client sees.
var edge = map[ErrorKind]struct {
	code   connect.Code
	reason string
}{
	KindInvalid:         {connect.CodeInvalidArgument, ReasonInvalid},
	KindNotFound:        {connect.CodeNotFound, ReasonNotFound},
	KindConflict:        {connect.CodeAborted, ReasonETagMismatch},
	KindUnavailable:     {connect.CodeUnavailable, ReasonUnavailable},
	KindDeadline:        {connect.CodeDeadlineExceeded, ReasonUnavailable},
	KindUnauthenticated: {connect.CodeUnauthenticated, ReasonUnauthorized},
	KindInternal:        {connect.CodeInternal, ReasonInternal},
}

// internalMessage is all a client learns of an unexpected error.
const internalMessage = "internal error"

// ConnectError turns a domain error into the *connect.Error a client gets:
// the code and ErrorInfo reason of its kind, and its client-safe message.
// The cause is not included; log it. An error that is already a
// *connect.Error is returned as is.
func ConnectError(err error) *connect.Error {
	var cerr *connect.Error
	if errors.As(err, &cerr) {
		return cerr
	}
	kind := KindOf(err)
	msg := internalMessage
	var e *Error
	if errors.As(err, &e) && kind != KindInternal {
		msg = e.Message
	} else if kind == KindDeadline {
		msg = "deadline exceeded"
	}
	out := edge[kind]
	return NewConnectError(out.code, out.reason, msg)
}

// ErrorReason returns the reason of the tasks.v1 ErrorInfo detail in cerr,
// or "" when it has none: what a Go client of the API switches on.
func ErrorReason(cerr *connect.Error) string {
	for _, d := range cerr.Details() {
		v, err := d.Value()
		if err != nil {
			continue
		}
		if info, ok := v.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			return info.GetReason()
		}
	}
	return ""
}

// NewConnectError returns a *connect.Error with an ErrorInfo detail carrying
// reason.
func NewConnectError(code connect.Code, reason, msg string) *connect.Error {
	cerr := connect.NewError(code, errors.New(msg))
	addReason(cerr, reason)
	return cerr
}
