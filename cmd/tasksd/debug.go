package main

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// serveDebug serves net/http/pprof and metrics (Prometheus's /metrics) on
// their own listener at addr, apart from the API so that neither is ever
// reachable through it. It is off unless DEBUG_ADDR is set. The returned
// func closes the listener.
func serveDebug(addr string, metrics http.Handler, logger *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	logger.Warn("serving pprof and metrics; keep DEBUG_ADDR private", "url", "http://"+ln.Addr().String()+"/debug/pprof/", "metrics", "http://"+ln.Addr().String()+"/metrics")
	return func() { srv.Close() }, nil
}
