package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// h2cConn is one cleartext HTTP/2 connection to s, closed when the test
// ends.
func h2cConn(tb testing.TB, s *testServer) (net.Conn, *http2.ClientConn) {
	tb.Helper()
	conn, err := net.Dial("tcp", s.hostPort())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	cc, err := (&http2.Transport{AllowHTTP: true}).NewClientConn(conn)
	if err != nil {
		tb.Fatal(err)
	}
	return conn, cc
}

// startListTasks sends a ListTasks on cc whose body is "{" now and "}"
// when finish is called; done gets what the call ended with.
func startListTasks(tb testing.TB, s *testServer, cc *http2.ClientConn) (finish func(), done <-chan error) {
	tb.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, s.baseURL+"/tasks.v1.TaskService/ListTasks", pr)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.mustToken(tb, "alice"))
	result := make(chan error, 1)
	go func() { result <- okAnswer(cc.RoundTrip(req)) }()
	if _, err := pw.Write([]byte("{")); err != nil { // returns once sent on
		tb.Fatal(err)
	}
	return func() {
		_, _ = pw.Write([]byte("}"))
		pw.Close()
	}, result
}

// okAnswer reads and closes resp's body: nil for a 200 read in full, else
// what went wrong.
func okAnswer(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// mustCall makes one whole ListTasks on cc.
func mustCall(tb testing.TB, s *testServer, cc *http2.ClientConn) {
	tb.Helper()
	finish, done := startListTasks(tb, s, cc)
	finish()
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
}

// TestH2CLeavesHTTP1Behind: a cleartext HTTP/2 connection is no longer
// served under net/http's HTTP/1 connection loop, which holds 8 KiB of
// buffers and more for the connection's life (h2cHandoff).
func TestH2CLeavesHTTP1Behind(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, nil)
	_, cc := h2cConn(t, s)
	mustCall(t, s, cc)

	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var served bool
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if !strings.Contains(g, "http2serverConn).serve(") {
			continue
		}
		served = true
		// Only the cleartext path runs through this frame; TLS
		// connections (other tests') go from conn.serve to HTTP/2
		// directly, and are meant to.
		if strings.Contains(g, "maybeServeUnencryptedHTTP2") {
			t.Fatalf("an HTTP/2 connection is served under the HTTP/1 loop:\n%s", g)
		}
	}
	if !served {
		t.Fatal("no HTTP/2 connection in the goroutine dump")
	}
}

// TestShutdownWaitsForH2CCalls: a call in progress on a cleartext HTTP/2
// connection when shutdown begins is finished before serve returns, as on
// HTTP/1.1, though http.Server no longer counts the connection
// (h2cHandoff.wait). It passed before the handoff too: it is there so that
// the handoff keeps it.
func TestShutdownWaitsForH2CCalls(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, nil)
	_, cc := h2cConn(t, s)
	mustCall(t, s, cc) // handed off by now
	finish, call := startListTasks(t, s, cc)
	// Answered only once the server has taken the call sent before it:
	// a connection's frames are read in order.
	mustCall(t, s, cc)

	s.stop()
	select {
	case err := <-s.done:
		s.done <- err
		t.Fatalf("serve returned (%v) with a call in progress", err)
	case <-time.After(300 * time.Millisecond):
		// A server that did not wait returns well within this; a slow
		// machine can only make the test pass when it should not.
	}
	finish()
	if err := <-call; err != nil {
		t.Fatalf("the call in progress at shutdown: %v", err)
	}
	if err := <-s.done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	s.done <- nil
}

// TestShutdownClosesLateCalls: a connection still busy when
// SHUTDOWN_TIMEOUT is up is closed, whether cleartext HTTP/2 (which
// http.Server no longer counts) or HTTP/1.1, and serve says so.
func TestShutdownClosesLateCalls(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{"h2c", "http/1.1"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			s := mustStartServer(t, map[string]string{"SHUTDOWN_TIMEOUT": "300ms", "BODY_READ_TIMEOUT": "1m"})
			var call <-chan error
			if proto == "h2c" {
				_, cc := h2cConn(t, s)
				mustCall(t, s, cc)
				_, call = startListTasks(t, s, cc) // never finished
				mustCall(t, s, cc)
			} else {
				call = startHTTP1ListTasks(t, s)
			}
			if err := s.shutdown(); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("serve returned %v, want the shutdown timeout", err)
			}
			select {
			case err := <-call:
				if err == nil {
					t.Fatal("the unfinished call succeeded")
				}
			case <-time.After(attackTimeout):
				t.Fatal("the connection was left open after shutdown")
			}
		})
	}
}

// startHTTP1ListTasks sends a ListTasks over HTTP/1.1 whose body never
// ends, once the server has begun to read it; the channel gets what
// reading its answer ended with.
func startHTTP1ListTasks(tb testing.TB, s *testServer) <-chan error {
	tb.Helper()
	conn, err := net.Dial("tcp", s.hostPort())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(attackTimeout))
	// The server answers 100 Continue when its handler first reads the
	// body: the call is in progress from then on.
	req := "POST /tasks.v1.TaskService/ListTasks HTTP/1.1\r\nHost: " + s.hostPort() +
		"\r\nContent-Type: application/json\r\nAuthorization: Bearer " + s.mustToken(tb, "alice") +
		"\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		tb.Fatal(err)
	}
	r := bufio.NewReader(conn)
	if resp, err := http.ReadResponse(r, nil); err != nil || resp.StatusCode != http.StatusContinue {
		tb.Fatalf("waiting for 100 Continue: %v, %v", resp, err)
	}
	if _, err := conn.Write([]byte("{")); err != nil {
		tb.Fatal(err)
	}
	_ = conn.SetDeadline(time.Time{}) // the caller waits for the answer as long as it sees fit
	result := make(chan error, 1)
	go func() { result <- okAnswer(http.ReadResponse(r, nil)) }()
	return result
}

// TestH2CPanicClosesConnection: a panic in serving a handed-off connection
// (outside any handler) is logged and closes that connection, as net/http
// does for the connections it serves itself, and the server goes on.
func TestH2CPanicClosesConnection(t *testing.T) {
	t.Parallel()
	logged := make(lineSink, 10)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte("ok"))
		}),
		ErrorLog: log.New(logged, "", 0),
		// With an "h2" entry net/http sets no HTTP/2 up, and the one
		// under unencryptedHTTP2 is what serves cleartext HTTP/2.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){
			"h2":             func(*http.Server, *tls.Conn, http.Handler) {},
			unencryptedHTTP2: func(*http.Server, *tls.Conn, http.Handler) { panic("bug in HTTP/2") },
		},
	}
	addr, _ := serveHandingOff(t, srv)

	conn := mustSendPreface(t, addr)
	mustBeClosed(t, conn, "a connection whose serving panicked")
	select {
	case line := <-logged:
		if !strings.Contains(line, "bug in HTTP/2") {
			t.Errorf("logged %q, want the panic", line)
		}
	default:
		t.Error("the panic was not logged")
	}
	resp, err := http.Get("http://" + addr)
	if err != nil {
		t.Fatalf("the server after the panic: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the server after the panic: %s", resp.Status)
	}
}

// lineSink is a log output that keeps what is written, one write per
// line, while it has room.
type lineSink chan string

func (s lineSink) Write(p []byte) (int, error) {
	select {
	case s <- string(p):
	default:
	}
	return len(p), nil
}

// TestMaxConnectionsCountsH2C: a handed-off connection keeps its place
// under MAX_CONNECTIONS until it is closed, not until the HTTP/1 goroutine
// lets go of it. (It passed before the handoff too.)
func TestMaxConnectionsCountsH2C(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, map[string]string{"MAX_CONNECTIONS": "1"})
	conn, cc := h2cConn(t, s)
	mustCall(t, s, cc)

	mustWaitForSlot(t, s, func() { conn.Close() })
}

// TestH2CAfterShutdownClosed: a connection whose HTTP/2 preface arrives
// once Shutdown has begun is closed, not served: it would never be sent
// GOAWAY, and would hold the shutdown until its timeout.
func TestH2CAfterShutdownClosed(t *testing.T) {
	t.Parallel()
	srv := &http.Server{Handler: http.NotFoundHandler()}
	addr, h := serveHandingOff(t, srv)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), attackTimeout)
	defer cancel()
	go srv.Shutdown(ctx)
	for !h.closing.Load() {
		if ctx.Err() != nil {
			t.Fatal("Shutdown never ran the handoff's hook")
		}
		time.Sleep(time.Millisecond)
	}
	sendPreface(t, conn)
	mustBeClosed(t, conn, "a connection that reached HTTP/2 after Shutdown began")
	if err := h.wait(ctx); err != nil {
		t.Fatalf("wait: %v", err)
	}
}

// serveHandingOff serves srv, cleartext HTTP/2 and HTTP/1.1, through an
// h2cHandoff on a loopback port until the test ends.
func serveHandingOff(tb testing.TB, srv *http.Server) (addr string, h *h2cHandoff) {
	tb.Helper()
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	h = new(h2cHandoff)
	if err := h.install(srv); err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(h.listener(ln))
	tb.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), h
}

// mustSendPreface dials addr and starts HTTP/2 with prior knowledge; the
// connection is closed when the test ends.
func mustSendPreface(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	sendPreface(tb, conn)
	return conn
}

// sendPreface sends HTTP/2's client preface on conn, which then has
// attackTimeout for all it does.
func sendPreface(tb testing.TB, conn net.Conn) {
	tb.Helper()
	_ = conn.SetDeadline(time.Now().Add(attackTimeout))
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		tb.Fatal(err)
	}
}

// mustBeClosed checks that the server closes conn without sending a byte.
func mustBeClosed(tb testing.TB, conn net.Conn, what string) {
	tb.Helper()
	if n, err := conn.Read(make([]byte, 1)); err == nil {
		tb.Fatalf("read %d bytes from %s: it was served", n, what)
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		tb.Fatalf("%s was left open", what)
	}
}
