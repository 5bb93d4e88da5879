package service

import (
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"connectrpc.com/validate"

	"github.com/example/tasks"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
)

// Config is how the TaskService handler is served.
type Config struct {
	// Logger gets one line per call and the causes of failures.
	Logger *slog.Logger
	// Validator checks every request against the schema's rules
	// (NewValidator).
	Validator protovalidate.Validator
	// MaxRequestBytes bounds a request message; larger ones are
	// ResourceExhausted and never decoded.
	MaxRequestBytes int64
	// CallTimeout is the deadline of a unary call whose client sets none.
	// Streams have none.
	CallTimeout time.Duration
	// Watches, when not nil, serves WatchTasks; without it WatchTasks is
	// Unimplemented.
	Watches *WatchHub
	// Telemetry, when not nil, gets a span and a duration per call and
	// the rest of what the service reports (NewTelemetry).
	Telemetry *Telemetry
}

// NewTaskServiceHandler returns the path and handler of
// tasks.v1.TaskService over store, with the options every call gets. The
// caller must be authenticated before it runs (Authenticate).
func NewTaskServiceHandler(store tasks.TaskStore, cfg Config) (string, http.Handler) {
	path, h := tasksv1connect.NewTaskServiceHandler(&taskService{store: store, watches: cfg.Watches, telemetry: cfg.Telemetry, logger: cfg.Logger}, handlerOptions(cfg))
	return path, logCalls(checkGetMessage(h), cfg.Logger)
}

// handlerOptions is the one bundle of options the TaskService handler is
// built with. The interceptors run in order: telemetry outermost (so the
// call's span is open when the rest run, and the code it counts is the one
// the client gets), then the note of the span's trace id for the call's log
// line (written around the handler, by logCalls), the refusal of a request
// the codecs could not decode (decodeMark), the error table, the default
// deadline, and validation last, next to the handler.
func handlerOptions(cfg Config) connect.HandlerOption {
	ics := cfg.Telemetry.interceptors()
	if len(ics) > 0 {
		ics = append(ics, traceNote{})
	}
	codecOpts, refuseUndecodable := codecs()
	return connect.WithHandlerOptions(
		connect.WithInterceptors(append(ics,
			refuseUndecodable,
			NewErrorInterceptor(cfg.Logger),
			NewDeadlineInterceptor(cfg.CallTimeout),
			validate.NewInterceptor(validate.WithValidator(cfg.Validator)),
		)...),
		codecOpts,
		connect.WithReadMaxBytes(int(cfg.MaxRequestBytes)),
		fastGzip(),
		connect.WithCompressMinBytes(1024),
		connect.WithRecover(func(ctx context.Context, spec connect.Spec, _ http.Header, p any) error {
			cfg.Logger.ErrorContext(ctx, "panic", "procedure", spec.Procedure, "request_id", RequestIDFrom(ctx), "panic", p)
			return ConnectError(tasks.Errorf(tasks.KindInternal, "internal error"))
		}),
	)
}

// fastGzip replaces connect's gzip with the same format at gzip.BestSpeed.
// At the default level, compressing a page of 50 tasks took a quarter of
// the server's CPU in ListTasks (a good part of it resetting the level's
// hash tables for every response); BestSpeed takes about 40% less, for
// output about 8% larger (BENCHMARKS.md). Clients see the same
// Content-Encoding.
// The first option drops the built-in gzip so the name is not listed twice
// in the Accept-Encoding headers the server sends.
func fastGzip() connect.HandlerOption {
	return connect.WithHandlerOptions(
		connect.WithCompression("gzip", nil, nil),
		connect.WithCompression("gzip",
			func() connect.Decompressor { return &gzip.Reader{} },
			func() connect.Compressor {
				w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
				return w
			},
		),
	)
}
