package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/example/tasks/internal/readyfile"
	"github.com/example/tasks/service"
)

// unindexedResponseHeaders is the HPACK table for response headers: one
// byte, which no header fits, so none is indexed (nginx does not index
// them either; 0 would mean net/http's default of 4 KiB). Every response
// carries a new X-Request-Id and most a new Date, which churn through a
// table of any size; the default cost about 6 KiB of heap per HTTP/2
// connection (issue 14), for a saving of about 64 bytes per response.
// The table for request headers is unchanged, so they are indexed as the
// client chooses (Go's clients send a bearer token once per connection).
const unindexedResponseHeaders = 1

// serve runs the server until ctx ends, then shuts down gracefully: health
// turns NOT_SERVING, in-flight calls get cfg.ShutdownTimeout to finish, the
// database pool closes, and the last spans are sent. ready, if not nil, is
// called with the server's base URL once it accepts connections.
func serve(ctx context.Context, cfg config, stdout io.Writer, ready func(baseURL string)) error {
	logger := cfg.logger()

	tel, err := newTelemetry(ctx, cfg)
	if err != nil {
		return fmt.Errorf("OpenTelemetry: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), telemetryFlushTimeout)
		defer cancel()
		if err := tel.Shutdown(ctx); err != nil {
			logger.Warn("sending the last spans", "err", err)
		}
	}()

	store, err := openStore(ctx, cfg, logger, tel)
	if err != nil {
		return err
	}
	defer store.Close()

	verifier, err := newVerifier(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer verifier.Close()

	validator, err := service.NewValidator()
	if err != nil {
		return fmt.Errorf("compiling validation rules: %w", err)
	}

	health := newHealthMonitor(store.Ping, cfg.HealthInterval, logger)
	watches := service.NewWatchHub(store, service.WatchConfig{
		MaxPerUser:  cfg.WatchMaxPerUser,
		Max:         cfg.WatchMax,
		Heartbeat:   cfg.WatchHeartbeat,
		MaxDuration: cfg.WatchMaxDuration,
	}, logger)
	stopListening := store.Listen(watches)
	defer stopListening()
	calls, err := service.NewTelemetry(service.TelemetryConfig{Meter: tel.Meter, Tracer: tel.Tracer, Watches: watches})
	if err != nil {
		return err
	}
	defer calls.Close()
	stopReporting, err := reportServer(tel.Meter, health, verifier)
	if err != nil {
		return err
	}
	defer stopReporting()
	handler := routes{
		store:           store,
		validator:       validator,
		authenticate:    service.Authenticate(verifier, publicPaths(), logger, calls),
		health:          health,
		logger:          logger,
		watches:         watches,
		telemetry:       calls,
		corsOrigins:     cfg.CORSOrigins,
		maxRequestBytes: cfg.MaxRequestBytes,
		bodyReadTimeout: cfg.BodyReadTimeout,
		limits: service.Limits{
			MaxInFlight:        cfg.MaxInFlight,
			MaxInFlightPerUser: cfg.MaxInFlightPerUser,
			RatePerUser:        cfg.RateLimitPerUser,
		},
		callTimeout:    cfg.CallTimeout,
		healthWatchMax: cfg.HealthWatchMax,
	}.handler()

	resets := resetGuard{logger: logger}
	srv := &http.Server{
		Handler:           resets.handler(handler),
		ConnContext:       resets.connContext,
		ReadHeaderTimeout: cfg.HeaderReadTimeout,
		// No ReadTimeout or WriteTimeout: they would cut long-lived streams
		// (WatchTasks, health Watch, reflection). Request bodies have their
		// own deadline (service.ReadBodies), calls theirs, and a
		// connection with nothing in progress is closed after IdleTimeout
		// (on HTTP/2 too).
		IdleTimeout:    cfg.IdleTimeout,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	srv.HTTP2 = &http.HTTP2Config{MaxEncoderHeaderTableSize: unindexedResponseHeaders}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	srv.Protocols.SetUnencryptedHTTP2(cfg.TLSCertFile == "")

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return err
	}
	ln = limitConnections(ln, connectionLimit(cfg.MaxConnections, openFileLimit()), logger)
	scheme := "http"
	var h2c h2cHandoff
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			ln.Close()
			return fmt.Errorf("TLS_CERT_FILE/TLS_KEY_FILE: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	} else if err := h2c.install(srv); err != nil {
		ln.Close()
		return fmt.Errorf("setting up HTTP/2: %w", err)
	} else {
		ln = h2c.listener(ln)
	}

	if cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(cfg.DebugAddr, tel.Handler(), logger)
		if err != nil {
			ln.Close()
			return fmt.Errorf("DEBUG_ADDR: %w", err)
		}
		defer stopDebug()
	}

	monitorCtx, stopMonitor := context.WithCancel(context.Background())
	defer stopMonitor()
	go health.run(monitorCtx)
	go watches.Run(monitorCtx)
	go store.ForgetDeletions(monitorCtx)

	served := make(chan error, 1)
	go func() {
		// Not srv.TLSConfig != nil: setting HTTP/2 up (h2c.install)
		// gives every server one.
		if scheme == "https" {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	baseURL := fmt.Sprintf("%s://%s", scheme, ln.Addr())
	logger.Info("listening", "url", baseURL, "database", store.Backend())
	fmt.Fprintf(stdout, "tasksd listening on %s\n", baseURL)
	if cfg.ReadyFile != "" {
		if err := readyfile.Write(cfg.ReadyFile, readyfile.Info{URL: baseURL, PID: os.Getpid()}); err != nil {
			srv.Close()
			return fmt.Errorf("READY_FILE: %w", err)
		}
		defer os.Remove(cfg.ReadyFile)
	}
	if ready != nil {
		ready(baseURL)
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	stopMonitor()
	health.set(false)
	// Open watches would keep Shutdown waiting: end them now, Unavailable,
	// so their clients reconnect to another replica.
	watches.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if werr := h2c.wait(shutdownCtx); err == nil {
		err = werr
	}
	if err != nil {
		// Out of time: what is still open is cut, as wait cuts the
		// cleartext HTTP/2 connections.
		srv.Close()
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	logger.Info("stopped")
	return err
}
