package main

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// unencryptedHTTP2 is net/http's TLSNextProto key for cleartext HTTP/2
// (prior knowledge) connections: net/http recognises the preface and
// hands the connection to the function stored under it.
const unencryptedHTTP2 = "unencrypted_http2"

// h2cHandoff serves each cleartext HTTP/2 connection on a goroutine of its
// own, so that the goroutine net/http ran it on (its HTTP/1 connection
// loop) returns and gives back what it allocated before it saw the
// HTTP/2 preface: a 4 KiB read buffer, a 4 KiB write buffer and the HTTP/1
// connection itself, which net/http otherwise holds for as long as the
// HTTP/2 connection is open (issue 14: with 2,000 busy connections, about
// 25 MiB of RSS; BENCHMARKS.md). TLS connections are handed to HTTP/2
// before any of that is allocated and need none of this.
//
// The HTTP/1 goroutine closes the connection on its way out; the
// connection (handoffConn) ignores that close. And http.Server stops
// counting the connection then: Shutdown still sends it GOAWAY (net/http's
// HTTP/2 server registers for that) but does not wait for it, so wait
// does. The zero h2cHandoff, never installed, has nothing to wait for.
type h2cHandoff struct {
	mu      sync.Mutex
	conns   map[*handoffConn]struct{}
	closing atomic.Bool
}

// install sets srv's HTTP/2 up and wraps its cleartext entry; only
// connections accepted through h.listener are handed off. It must be
// called before srv serves.
func (h *h2cHandoff) install(srv *http.Server) error {
	// net/http sets TLSNextProto up on the first Serve; a listener that
	// fails at once makes it do so now.
	if err := srv.Serve(failingListener{}); !errors.Is(err, errNotListening) {
		return err
	}
	serveH2 := srv.TLSNextProto[unencryptedHTTP2]
	if serveH2 == nil {
		return nil // cleartext HTTP/2 is off
	}
	h.conns = make(map[*handoffConn]struct{})
	// A connection that reaches HTTP/2 once Shutdown has sent GOAWAY to
	// the others would never get one, and hold the shutdown until its
	// timeout: it is closed instead (by the HTTP/1 goroutine, as it
	// returns), and its client goes elsewhere.
	srv.RegisterOnShutdown(func() { h.closing.Store(true) })
	srv.TLSNextProto[unencryptedHTTP2] = func(hs *http.Server, tc *tls.Conn, handler http.Handler) {
		c := handedOff(tc)
		bc, ok := handler.(interface{ BaseContext() context.Context })
		if c == nil || !ok {
			serveH2(hs, tc, handler)
			return
		}
		if h.closing.Load() {
			return
		}
		// The base context is the HTTP/1 goroutine's, canceled as it
		// returns; the HTTP/2 server derives one of its own per
		// connection and cancels that when the connection ends.
		detached := detachedHandler{Handler: handler, ctx: context.WithoutCancel(bc.BaseContext())}
		h.add(c)
		go func() {
			defer h.remove(c)
			defer recoverConn(hs, c)
			serveH2(hs, tc, detached)
		}()
	}
	return nil
}

// recoverConn does for a handed-off connection what the HTTP/1 goroutine
// did for it: a panic in serving it (not in a handler: the HTTP/2 server
// recovers those) is logged and closes the connection, not the process.
func recoverConn(hs *http.Server, c net.Conn) {
	err := recover()
	if err == nil || err == http.ErrAbortHandler {
		return
	}
	logf := log.Printf // as net/http does without an ErrorLog
	if hs.ErrorLog != nil {
		logf = hs.ErrorLog.Printf
	}
	logf("http: panic serving %v: %v\n%s", c.RemoteAddr(), err, debug.Stack())
	_ = c.Close()
}

// listener returns ln with its connections able to be handed off.
func (h *h2cHandoff) listener(ln net.Listener) net.Listener {
	return handoffListener{ln}
}

func (h *h2cHandoff) add(c *handoffConn) {
	c.handedOff.Store(true)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conns[c] = struct{}{}
}

func (h *h2cHandoff) remove(c *handoffConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
}

func (h *h2cHandoff) open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// shutdownPoll is how often wait looks for the connections to have ended,
// as http.Server.Shutdown does.
const shutdownPoll = 20 * time.Millisecond

// wait waits for the handed-off connections to end, as Shutdown does for
// its own once it has sent them GOAWAY, and closes those still open when
// ctx ends.
func (h *h2cHandoff) wait(ctx context.Context) error {
	tick := time.NewTicker(shutdownPoll)
	defer tick.Stop()
	for h.open() > 0 {
		select {
		case <-ctx.Done():
			h.closeAll()
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

func (h *h2cHandoff) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		_ = c.Close()
	}
}

// handedOff is the handoffConn under tc, the wrapper net/http passes
// cleartext connections in; nil if there is none.
func handedOff(tc *tls.Conn) *handoffConn {
	u, ok := tc.NetConn().(interface{ UnencryptedNetConn() net.Conn })
	if !ok {
		return nil
	}
	c, _ := u.UnencryptedNetConn().(*handoffConn)
	return c
}

type detachedHandler struct {
	http.Handler
	ctx context.Context
}

func (d detachedHandler) BaseContext() context.Context { return d.ctx }

type handoffListener struct{ net.Listener }

func (l handoffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &handoffConn{Conn: c}, nil
}

// handoffConn is a connection whose first close after being handed off is
// ignored: it is the HTTP/1 goroutine's, which no longer owns it. (Should
// the HTTP/2 server close it first, the HTTP/1 goroutine's close, which
// always follows the handoff, is the one that closes it.)
type handoffConn struct {
	net.Conn
	handedOff atomic.Bool
	skipped   atomic.Bool
}

func (c *handoffConn) Close() error {
	if c.handedOff.Load() && c.skipped.CompareAndSwap(false, true) {
		return nil
	}
	return c.Conn.Close()
}

var errNotListening = errors.New("not listening")

type failingListener struct{}

func (failingListener) Accept() (net.Conn, error) { return nil, errNotListening }
func (failingListener) Close() error              { return nil }
func (failingListener) Addr() net.Addr            { return &net.TCPAddr{} }
