package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/trace"

	"github.com/example/tasks"
)

// RequestIDHeader carries the id that ties a call's log lines together. A
// client may send one (at most 64 characters); the server answers with it.
const RequestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// RequestIDFrom returns the id RequestIDs (or logCalls) gave this call.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// logCalls gives each call a request id, answered in RequestIDHeader, and
// logs one line per call, or per stream when it ends: procedure, protocol,
// code, duration, user and request id (never the token). The code is the
// one the response carries (outcome), not what the handler returned:
// connect-go decodes a unary request before any interceptor runs and
// encodes the response after they have all returned, and answers a failure
// of either itself, so an interceptor logs nothing for a request that
// could not be decoded and "ok" for a response that could not be encoded.
// Internal and Unknown are logged as errors, unless an HTTP status of 4xx
// says the request was at fault (a preflight with no CORS configured, a
// content type that is no protocol's).
func logCalls(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx := r.Context()
		if RequestIDFrom(ctx) == "" { // no RequestIDs in front
			ctx = withRequestID(ctx, w, r.Header)
		}
		note := &callNote{}
		ctx = context.WithValue(ctx, callNoteKey{}, note)
		out := newOutcome(w, r)
		next.ServeHTTP(out, r.WithContext(ctx))

		code := out.code()
		level := slog.LevelInfo
		if (code == connect.CodeInternal || code == connect.CodeUnknown) && out.status/100 != 4 {
			level = slog.LevelError
		}
		user, _ := tasks.UserFrom(ctx)
		attrs := []slog.Attr{
			slog.String("procedure", r.URL.Path),
			slog.String("protocol", out.protocol),
			slog.String("code", codeName(code)),
			slog.Duration("duration", time.Since(start)),
			slog.String("user", user.ID),
			slog.String("request_id", RequestIDFrom(ctx)),
		}
		if note.traceID != "" {
			attrs = append(attrs, slog.String("trace_id", note.traceID))
		}
		logger.LogAttrs(ctx, level, "rpc", attrs...)
	})
}

type callNoteKey struct{}

// callNote is what the inside of a call tells its log line: the trace id,
// known only once telemetry's interceptor has started the call's span.
// It is written and read on the handler's goroutine.
type callNote struct{ traceID string }

// traceNote is the interceptor that notes the call's trace id, right
// inside telemetry's.
type traceNote struct{}

func (traceNote) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		noteTrace(ctx)
		return next(ctx, req)
	}
}

func (traceNote) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		noteTrace(ctx)
		return next(ctx, conn)
	}
}

func (traceNote) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func noteTrace(ctx context.Context) {
	note, ok := ctx.Value(callNoteKey{}).(*callNote)
	if sc := trace.SpanContextFromContext(ctx); ok && sc.IsValid() {
		note.traceID = sc.TraceID().String()
	}
}

// codeName is c as the log names it: "ok" for success.
func codeName(c connect.Code) string {
	if c == 0 {
		return "ok"
	}
	return c.String()
}

// RequestIDs gives every request its request id (see logCalls) and
// answers it in RequestIDHeader, ahead of the middleware that may refuse
// the request (authentication, limits), so that a refused call has an id
// too: for the client to quote, and for the refusal's log line.
func RequestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(withRequestID(r.Context(), w, r.Header)))
	})
}

// withRequestID gives the call the client's request id (at most 64
// characters) or a new one, and answers it.
func withRequestID(ctx context.Context, w http.ResponseWriter, h http.Header) context.Context {
	id := h.Get(RequestIDHeader)
	if id == "" || len(id) > 64 {
		id = newRequestID()
	}
	w.Header().Set(RequestIDHeader, id)
	return context.WithValue(ctx, requestIDKey{}, id)
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
