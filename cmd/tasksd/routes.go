package main

import (
	"log/slog"
	"net/http"
	"time"

	"buf.build/go/protovalidate"
	connectcors "connectrpc.com/cors"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/rs/cors"

	"github.com/example/tasks"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
	"github.com/example/tasks/service"
)

// routes is everything the HTTP handler is built from.
type routes struct {
	store     tasks.TaskStore
	validator protovalidate.Validator
	// authenticate refuses requests without a valid token, except on the
	// public paths it was built with.
	authenticate func(http.Handler) http.Handler
	health       *healthMonitor
	logger       *slog.Logger
	// watches serves WatchTasks.
	watches *service.WatchHub
	// telemetry gets the calls' spans and metrics.
	telemetry *service.Telemetry

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
	mux := http.NewServeMux()
	path, api := service.NewTaskServiceHandler(r.store, service.Config{
		Logger:          r.logger,
		Validator:       r.validator,
		MaxRequestBytes: r.maxRequestBytes,
		CallTimeout:     r.callTimeout,
		Watches:         r.watches,
		Telemetry:       r.telemetry,
	})
	mux.Handle(path, service.LimitInFlight(api, r.maxInFlight, r.telemetry))

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
	if len(r.corsOrigins) > 0 {
		h = r.cors().Handler(h)
	}
	return withStack(h)
}

// cors allows the configured browser origins to call the API with the
// headers Connect, gRPC-Web and connect-es use, plus Authorization. With
// none configured it is left out altogether, and browsers refuse every
// cross-origin call: rs/cors would read an empty list as "*", every
// origin, which must be asked for by name.
func (r routes) cors() *cors.Cors {
	return cors.New(cors.Options{
		AllowedOrigins: r.corsOrigins,
		AllowedMethods: connectcors.AllowedMethods(),
		AllowedHeaders: append(connectcors.AllowedHeaders(), "Authorization", service.RequestIDHeader),
		ExposedHeaders: append(connectcors.ExposedHeaders(), service.RequestIDHeader),
		MaxAge:         7200,
	})
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
