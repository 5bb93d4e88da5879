package service

import (
	"bytes"
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/example/tasks"
)

// The handler tests serve NewTaskServiceHandler as cmd/tasksd mounts it:
// behind LimitInFlight, ReadBodies and Authenticate (the real verifier,
// with the HMAC secret of authn_test.go), on an in-process server that
// speaks HTTP/1.1 and cleartext HTTP/2, as the real one does.

const (
	testCallTimeout     = time.Minute
	testMaxRequestBytes = 64 << 10
	testMaxInFlight     = 64
	testBodyTimeout     = time.Minute
)

// sharedValidator compiles the schema's rules once for every test server.
var sharedValidator = sync.OnceValues(NewValidator)

// apiServer is a running test server.
type apiServer struct {
	url   string // http://host:port
	addr  string // host:port
	logs  *logBuffer
	watch *WatchHub
}

// serveOptions change the server from its defaults.
type serveOptions struct {
	limits      Limits        // MaxInFlight 0: testMaxInFlight
	bodyTimeout time.Duration // 0: testBodyTimeout
	bodies      BodyLimits    // MaxBuffered and PerUser for ReadBodies
	callTimeout time.Duration // 0: testCallTimeout
	// around, when set, wraps the handler LimitInFlight returns, to see
	// calls leave it.
	around func(http.Handler) http.Handler
	// outer, when set, wraps the whole handler, to see requests arrive.
	outer func(http.Handler) http.Handler
	// withoutAuthenticate leaves Authenticate out, as a wiring mistake
	// would.
	withoutAuthenticate bool
	// authenticator replaces the HMAC verifier of authn_test.go.
	authenticator Authenticator
	// watch configures the watch hub (zero: its defaults).
	watch WatchConfig
	// meter and tracer, when either is set, get the server's Telemetry.
	meter  metric.MeterProvider
	tracer trace.TracerProvider
	// quiet drops the log lines rather than keep them in apiServer.logs,
	// for a fuzz target's millions of calls.
	quiet bool
}

func mustServe(tb testing.TB, store tasks.TaskStore, opts serveOptions) *apiServer {
	tb.Helper()
	validator, err := sharedValidator()
	if err != nil {
		tb.Fatal(err)
	}
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.quiet {
		logger = slog.New(slog.DiscardHandler)
	}
	hub := NewWatchHub(store, opts.watch, logger)
	ctx, stop := context.WithCancel(context.Background())
	tb.Cleanup(stop)
	go hub.Run(ctx)
	if mem, ok := store.(*memStore); ok {
		mem.committed = hub.Committed // as storage's Listen does
	}
	var tel *Telemetry
	if opts.meter != nil || opts.tracer != nil {
		if tel, err = NewTelemetry(TelemetryConfig{Meter: opts.meter, Tracer: opts.tracer, Watches: hub}); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { tel.Close() })
	}
	path, api := NewTaskServiceHandler(store, Config{
		Logger:          logger,
		Validator:       validator,
		MaxRequestBytes: testMaxRequestBytes,
		CallTimeout:     cmp.Or(opts.callTimeout, testCallTimeout),
		Watches:         hub,
		Telemetry:       tel,
	})
	opts.limits.MaxInFlight = cmp.Or(opts.limits.MaxInFlight, testMaxInFlight)
	limited := LimitInFlight(api, opts.limits, tel)
	if opts.around != nil {
		limited = opts.around(limited)
	}
	mux := http.NewServeMux()
	mux.Handle(path, limited)
	var h http.Handler = ReadBodies(mux, BodyLimits{
		MaxBytes:    testMaxRequestBytes,
		Timeout:     cmp.Or(opts.bodyTimeout, testBodyTimeout),
		MaxBuffered: opts.bodies.MaxBuffered,
		PerUser:     opts.bodies.PerUser,
	}, logger, tel)
	if !opts.withoutAuthenticate {
		var a Authenticator = opts.authenticator
		if a == nil {
			a = mustHMACVerifier(tb)
		}
		h = Authenticate(a, nil, logger, tel)(h)
	}
	if opts.outer != nil {
		h = opts.outer(h)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	tb.Cleanup(srv.Close)
	return &apiServer{url: srv.URL, addr: srv.Listener.Addr().String(), logs: logs, watch: hub}
}

// logBuffer collects a server's log lines; handlers write while tests
// read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mustContain fails unless the log holds every one of parts.
func (b *logBuffer) mustContain(tb testing.TB, parts ...string) {
	tb.Helper()
	logs := b.String()
	for _, p := range parts {
		if !strings.Contains(logs, p) {
			tb.Errorf("log lacks %q:\n%s", p, logs)
		}
	}
}
