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
	bodyReadTimeout time.Duration
	limits          service.Limits
	callTimeout     time.Duration
	healthWatchMax  int
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

// streamedPaths are those whose request body is a stream of messages for
// as long as the call lasts (gRPC reflection's ServerReflectionInfo): it
// cannot be read up front (service.ReadBodies).
func streamedPaths() []string {
	return []string{
		"/" + grpcreflect.ReflectV1ServiceName + "/",
		"/" + grpcreflect.ReflectV1AlphaServiceName + "/",
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
	mux.Handle(path, service.LimitInFlight(api, r.limits, r.telemetry))

	reflector := grpcreflect.NewStaticReflector(tasksv1connect.TaskServiceName, grpchealth.HealthV1ServiceName)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	mux.Handle(grpchealth.NewHandler(limitWatches(r.health.checker, r.healthWatchMax)))
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
	h = service.ReadBodies(h, service.BodyLimits{
		MaxBytes: r.maxRequestBytes,
		Timeout:  r.bodyReadTimeout,
		Streamed: streamedPaths(),
		// As much as the calls in flight could hold before bodies were
		// read ahead of them.
		MaxBuffered: int64(r.limits.MaxInFlight) * r.maxRequestBytes,
		PerUser:     r.limits.MaxInFlightPerUser,
	}, r.logger, r.telemetry)
	h = r.authenticate(h)
	h = service.RequestIDs(h)
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
