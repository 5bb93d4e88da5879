package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
)

// The rapid-reset rule: each stream a client lets complete pays for
// resetsPerCompletion streams it resets, and a connection whose client
// runs up maxUnpaidResets unpaid resets is closed. Clients cancel calls
// (a closed tab, a deadline, a retry elsewhere), so some resets are
// normal; a client that resets far more streams than it completes is not
// one.
const (
	resetsPerCompletion = 4
	maxUnpaidResets     = 200
)

// resetGuard closes HTTP/2 connections whose client resets far more
// streams than it completes: the rapid reset attack (CVE-2023-44487).
// net/http (h2_bundle.go, scheduleHandler) runs at most
// MaxConcurrentStreams handlers per connection and closes the connection
// (ENHANCE_YOUR_CALM) when reset streams queue up faster than handlers
// finish; but a client that opens and resets streams one after another,
// each handler returning at once, is never closed, and costs a goroutine,
// its headers and the middleware per stream for as long as it likes
// (issue 14: 30,000 streams a second on two connections took 1.5 cores).
// A stream that arrives already reset is dropped before anything else
// runs.
type resetGuard struct {
	logger *slog.Logger
}

type connStreamsKey struct{}

// connStreams is one connection's account.
type connStreams struct {
	conn   net.Conn
	mu     sync.Mutex
	unpaid int
	closed bool
}

// connContext is http.Server.ConnContext: it opens each connection's
// account.
func (g resetGuard) connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connStreamsKey{}, &connStreams{conn: c})
}

// handler counts each HTTP/2 stream served by next as completed or reset
// (its context ended before the handler did: the client reset it, or the
// connection went away).
func (g resetGuard) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs, ok := r.Context().Value(connStreamsKey{}).(*connStreams)
		if !ok || r.ProtoMajor != 2 {
			next.ServeHTTP(w, r)
			return
		}
		if r.Context().Err() == nil {
			next.ServeHTTP(w, r)
		}
		if cs.record(r.Context().Err() != nil) {
			g.logger.Info("closing an HTTP/2 connection: its client resets far more streams than it completes", "remote", r.RemoteAddr)
		}
	})
}

// record counts one stream; true when that closed the connection.
func (cs *connStreams) record(reset bool) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if !reset {
		cs.unpaid = max(0, cs.unpaid-resetsPerCompletion)
		return false
	}
	cs.unpaid++
	if cs.unpaid < maxUnpaidResets || cs.closed {
		return false
	}
	cs.closed = true
	_ = cs.conn.Close()
	return true
}
