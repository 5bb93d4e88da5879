package service

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/example/tasks"
)

// NewErrorInterceptor turns what handlers and the validator return into the
// errors clients see, for calls and streams alike: domain errors become
// Connect errors through the one table in ConnectError (with a field
// violation for an error that names a field of the request), schema
// violations get the VALIDATION_ERROR reason, and unexpected errors are
// logged with their cause and request id, then answered with a plain
// message.
func NewErrorInterceptor(logger *slog.Logger) connect.Interceptor {
	return errorInterceptor{logger}
}

type errorInterceptor struct{ logger *slog.Logger }

func (e errorInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		resp, err := next(ctx, req)
		if err != nil {
			return nil, e.clientError(ctx, req.Spec(), err)
		}
		return resp, nil
	}
}

func (e errorInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if err := next(ctx, conn); err != nil {
			return e.clientError(ctx, conn.Spec(), err)
		}
		return nil
	}
}

func (errorInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (e errorInterceptor) clientError(ctx context.Context, spec connect.Spec, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		// The client went away (a closed tab, a dropped stream): whatever
		// failed after that, nobody is waiting for the answer, and the log
		// should say so rather than blame a deadline.
		return connect.NewError(connect.CodeCanceled, errors.New("the client went away"))
	}
	var cerr *connect.Error
	if errors.As(err, &cerr) {
		if isViolation(cerr) {
			addReason(cerr, ReasonValidation)
		}
		return cerr
	}
	if k := tasks.KindOf(err); k == tasks.KindInternal || k == tasks.KindUnavailable {
		e.logger.LogAttrs(ctx, slog.LevelError, "rpc failed",
			slog.String("procedure", spec.Procedure),
			slog.String("kind", k.String()),
			slog.String("request_id", RequestIDFrom(ctx)),
			slog.Any("error", err),
		)
	}
	return requestError(err, requestType(spec))
}

// requestType returns the request message type of the procedure spec
// describes, or nil when its schema is unknown.
func requestType(spec connect.Spec) protoreflect.MessageDescriptor {
	if m, ok := spec.Schema.(protoreflect.MethodDescriptor); ok {
		return m.Input()
	}
	return nil
}

// NewDeadlineInterceptor gives unary calls without a client deadline one
// of d, so a stuck database cannot hold a request forever. Streams are not
// affected.
func NewDeadlineInterceptor(d time.Duration) connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			if _, ok := ctx.Deadline(); !ok {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
			}
			return next(ctx, req)
		}
	}
}

// isViolation reports whether cerr is the validator's InvalidArgument
// carrying buf.validate.Violations without a reason yet.
func isViolation(cerr *connect.Error) bool {
	if cerr.Code() != connect.CodeInvalidArgument {
		return false
	}
	violations := false
	for _, d := range cerr.Details() {
		switch d.Type() {
		case string((&errdetails.ErrorInfo{}).ProtoReflect().Descriptor().FullName()):
			return false
		case string((&validate.Violations{}).ProtoReflect().Descriptor().FullName()):
			violations = true
		}
	}
	return violations
}
