package service

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"connectrpc.com/connect"
)

func TestConnectError(t *testing.T) {
	t.Parallel()
	driverText := errors.New(`pq: duplicate key value violates unique constraint "tasks_pkey"`)
	for _, tc := range []struct {
		err     error
		code    connect.Code
		reason  string
		message string
	}{
		{Errorf(KindInvalid, "invalid page token"), connect.CodeInvalidArgument, ReasonInvalid, "invalid page token"},
		{Errorf(KindNotFound, "task not found"), connect.CodeNotFound, ReasonNotFound, "task not found"},
		{Errorf(KindConflict, "etag mismatch"), connect.CodeAborted, ReasonETagMismatch, "etag mismatch"},
		{WrapError(KindUnavailable, driverText, "database unavailable"), connect.CodeUnavailable, ReasonUnavailable, "database unavailable"},
		{Errorf(KindUnauthenticated, "token expired"), connect.CodeUnauthenticated, ReasonUnauthorized, "token expired"},
		{Errorf(KindDeadline, "deadline exceeded"), connect.CodeDeadlineExceeded, ReasonUnavailable, "deadline exceeded"},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), connect.CodeDeadlineExceeded, ReasonUnavailable, "deadline exceeded"},
		// Unexpected errors and internal ones never show their text.
		{driverText, connect.CodeInternal, ReasonInternal, internalMessage},
		{WrapError(KindInternal, driverText, "scanning a row"), connect.CodeInternal, ReasonInternal, internalMessage},
	} {
		cerr := ConnectError(tc.err)
		if cerr.Code() != tc.code || cerr.Message() != tc.message || ErrorReason(cerr) != tc.reason {
			t.Errorf("%v: got %v %q %q, want %v %q %q", tc.err, cerr.Code(), cerr.Message(), ErrorReason(cerr), tc.code, tc.message, tc.reason)
		}
	}
	// A Connect error passes through untouched.
	in := connect.NewError(connect.CodeResourceExhausted, errors.New("too big"))
	if out := ConnectError(in); out != in {
		t.Errorf("connect error replaced: %v", out)
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	if k := KindOf(fmt.Errorf("ctx: %w", WrapError(KindNotFound, nil, "x"))); k != KindNotFound {
		t.Errorf("wrapped kind: %v", k)
	}
	if k := KindOf(context.Canceled); k != KindDeadline {
		t.Errorf("canceled: %v", k)
	}
	if k := KindOf(errors.New("boom")); k != KindInternal {
		t.Errorf("plain error: %v", k)
	}
	if s := ErrorKind(99).String(); s != "ErrorKind(99)" {
		t.Errorf("unknown kind prints %q", s)
	}
}
