package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/example/tasks"
)

// RequestIDHeader carries the id that ties a call's log lines together. A
// client may send one (at most 64 characters); the server answers with it.
const RequestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// RequestIDFrom returns the id the logging interceptor gave this call.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewLoggingInterceptor logs one line per call, or per stream when it
// ends: procedure, protocol, code, duration, user id, request id (never
// the token) and, when the call is traced, its trace id. It runs outside
// everything but telemetry, so the code it logs is the one the client
// gets.
func NewLoggingInterceptor(logger *slog.Logger) connect.Interceptor {
	return loggingInterceptor{logger}
}

type loggingInterceptor struct{ logger *slog.Logger }

func (l loggingInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		start := time.Now()
		ctx, id := withRequestID(ctx, req.Header())
		resp, err := next(ctx, req)
		if err == nil {
			resp.Header().Set(RequestIDHeader, id)
		}
		l.log(ctx, req.Spec(), req.Peer(), start, id, err)
		return resp, err
	}
}

func (l loggingInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		start := time.Now()
		ctx, id := withRequestID(ctx, conn.RequestHeader())
		conn.ResponseHeader().Set(RequestIDHeader, id)
		err := next(ctx, conn)
		l.log(ctx, conn.Spec(), conn.Peer(), start, id, err)
		return err
	}
}

func (loggingInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// withRequestID gives the call the client's request id (at most 64
// characters) or a new one.
func withRequestID(ctx context.Context, h http.Header) (context.Context, string) {
	id := h.Get(RequestIDHeader)
	if id == "" || len(id) > 64 {
		id = newRequestID()
	}
	return context.WithValue(ctx, requestIDKey{}, id), id
}

// log writes a call's line, and puts the request id on its error.
func (l loggingInterceptor) log(ctx context.Context, spec connect.Spec, peer connect.Peer, start time.Time, id string, err error) {
	code := "ok"
	level := slog.LevelInfo
	if err != nil {
		c := connect.CodeOf(err)
		code = c.String()
		if c == connect.CodeInternal || c == connect.CodeUnknown {
			level = slog.LevelError
		}
		var cerr *connect.Error
		if errors.As(err, &cerr) {
			cerr.Meta().Set(RequestIDHeader, id)
		}
	}
	user, _ := tasks.UserFrom(ctx)
	attrs := []slog.Attr{
		slog.String("procedure", spec.Procedure),
		slog.String("protocol", peer.Protocol),
		slog.String("code", code),
		slog.Duration("duration", time.Since(start)),
		slog.String("user", user.ID),
		slog.String("request_id", id),
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
	}
	l.logger.LogAttrs(ctx, level, "rpc", attrs...)
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

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
