package main

import (
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	connectcors "connectrpc.com/cors"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"connectrpc.com/validate"
	"github.com/rs/cors"

	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
	"github.com/example/tasks/service"
)

// routes is everything the HTTP handler is built from.
type routes struct {
	store     service.TaskStore
	validator protovalidate.Validator
	// authenticate refuses requests without a valid token, except on the
	// public paths it was built with.
	authenticate func(http.Handler) http.Handler
	health       *healthMonitor
	logger       *slog.Logger

	corsOrigins     []string
	maxRequestBytes int64
	maxInFlight     int
	callTimeout     time.Duration
}

// publicPaths are served without a token: health checks and reflection, so
// load balancers, `buf curl` and grpcurl work before anyone signs in. A
// path ending in "/" covers every method of that service.
func publicPaths() []string {
	return []string{
		"/" + grpchealth.HealthV1ServiceName + "/",
		"/" + grpcreflect.ReflectV1ServiceName + "/",
		"/" + grpcreflect.ReflectV1AlphaServiceName + "/",
		"/healthz",
		"/readyz",
	}
}

// handler builds the one http.Handler that serves the API over Connect,
// gRPC and gRPC-Web, plus health, readiness and reflection.
func (r routes) handler() http.Handler {
	// Every Connect handler gets the same options.
	opts := connect.WithHandlerOptions(
		connect.WithInterceptors(
			service.NewLoggingInterceptor(r.logger),
			service.NewErrorInterceptor(r.logger),
			defaultDeadline(r.callTimeout),
			validate.NewInterceptor(validate.WithValidator(r.validator)),
		),
		connect.WithReadMaxBytes(int(r.maxRequestBytes)),
		fastGzip(),
		connect.WithCompressMinBytes(1024),
		connect.WithRecover(r.recoverPanic),
	)

	mux := http.NewServeMux()
	path, tasks := tasksv1connect.NewTaskServiceHandler(service.NewHandler(r.store), opts)
	mux.Handle(path, limitInFlight(tasks, r.maxInFlight))

	reflector := grpcreflect.NewStaticReflector(tasksv1connect.TaskServiceName, grpchealth.HealthV1ServiceName)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	mux.Handle(grpchealth.NewHandler(r.health.checker))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !r.health.ready() {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})

	var h http.Handler = mux
	h = r.authenticate(h)
	h = limitBody(h, r.maxRequestBytes)
	return withStack(r.cors().Handler(h))
}

// cors allows the configured browser origins to call the API with the
// headers Connect, gRPC-Web and connect-es use, plus Authorization.
func (r routes) cors() *cors.Cors {
	return cors.New(cors.Options{
		AllowedOrigins: r.corsOrigins,
		AllowedMethods: connectcors.AllowedMethods(),
		AllowedHeaders: append(connectcors.AllowedHeaders(), "Authorization", service.RequestIDHeader),
		ExposedHeaders: append(connectcors.ExposedHeaders(), service.RequestIDHeader),
		MaxAge:         7200,
	})
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

// limitBody caps what a request body may hold on the wire, beyond
// connect.WithReadMaxBytes, which caps each message before it is decoded:
// the cap here also bounds what a compressed or malformed body can make the
// server read. The margin covers envelopes and compression headers.
func limitBody(next http.Handler, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req.Body = http.MaxBytesReader(w, req.Body, max+64*1024)
		next.ServeHTTP(w, req)
	})
}

// limitInFlight serves at most max calls at once and answers the rest
// Unavailable straight away, before their bodies are read. Past what the
// database can serve, queueing more calls only adds memory and latency; a
// quick Unavailable lets clients back off and retry, and load balancers
// send them elsewhere.
func limitInFlight(next http.Handler, max int) http.Handler {
	slots := make(chan struct{}, max)
	errw := connect.NewErrorWriter()
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, req)
		default:
			_ = errw.Write(w, req, service.NewConnectError(connect.CodeUnavailable, service.ReasonUnavailable, "server overloaded, retry later"))
		}
	})
}

// defaultDeadline gives unary calls without a client deadline a bound, so a
// stuck database cannot hold a request forever. Streams are not affected.
func defaultDeadline(d time.Duration) connect.UnaryInterceptorFunc {
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

// recoverPanic logs a handler panic; connect answers the call Internal.
func (r routes) recoverPanic(ctx context.Context, spec connect.Spec, _ http.Header, p any) error {
	r.logger.ErrorContext(ctx, "panic", "procedure", spec.Procedure, "request_id", service.RequestIDFrom(ctx), "panic", p)
	return service.ConnectError(service.Errorf(service.KindInternal, "internal error"))
}
