package service

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"connectrpc.com/connect"

	"github.com/example/tasks"
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
		{tasks.Errorf(tasks.KindInvalid, "invalid page token"), connect.CodeInvalidArgument, ReasonInvalid, "invalid page token"},
		{tasks.Errorf(tasks.KindNotFound, "task not found"), connect.CodeNotFound, ReasonNotFound, "task not found"},
		{tasks.Errorf(tasks.KindConflict, "etag mismatch"), connect.CodeAborted, ReasonETagMismatch, "etag mismatch"},
		{tasks.WrapError(tasks.KindUnavailable, driverText, "database unavailable"), connect.CodeUnavailable, ReasonUnavailable, "database unavailable"},
		{tasks.Errorf(tasks.KindUnauthenticated, "token expired"), connect.CodeUnauthenticated, ReasonUnauthorized, "token expired"},
		{tasks.Errorf(tasks.KindDeadline, "deadline exceeded"), connect.CodeDeadlineExceeded, ReasonUnavailable, "deadline exceeded"},
		{tasks.Errorf(tasks.KindCursorExpired, "expired"), connect.CodeFailedPrecondition, ReasonCursorExpired, "expired"},
		{tasks.Errorf(tasks.KindTooManyWatches, "too many"), connect.CodeResourceExhausted, ReasonTooManyWatches, "too many"},
		{tasks.ErrQuotaExceeded(3), connect.CodeResourceExhausted, ReasonQuotaExceeded, "at most 3 tasks per user; delete some to add more"},
		{tasks.Errorf(tasks.KindTooManyRequests, "slow down"), connect.CodeResourceExhausted, ReasonTooManyRequests, "slow down"},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), connect.CodeDeadlineExceeded, ReasonUnavailable, "deadline exceeded"},
		// Unexpected errors and internal ones never show their text.
		{driverText, connect.CodeInternal, ReasonInternal, internalMessage},
		{tasks.WrapError(tasks.KindInternal, driverText, "scanning a row"), connect.CodeInternal, ReasonInternal, internalMessage},
	} {
		cerr := ConnectError(tc.err)
		if cerr.Code() != tc.code || cerr.Message() != tc.message || ErrorReason(cerr) != tc.reason {
			t.Errorf("%v: got %v %q %q, want %v %q %q", tc.err, cerr.Code(), cerr.Message(), ErrorReason(cerr), tc.code, tc.message, tc.reason)
		}
	}
	// Every kind is in the table.
	for k := tasks.KindInternal; k <= tasks.KindTooManyRequests; k++ {
		if _, ok := edge[k]; !ok {
			t.Errorf("kind %v has no code", k)
		}
	}
	// A Connect error passes through untouched.
	in := connect.NewError(connect.CodeResourceExhausted, errors.New("too big"))
	if out := ConnectError(in); out != in {
		t.Errorf("connect error replaced: %v", out)
	}
}
