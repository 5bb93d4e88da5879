package main

import (
	"bufio"
	"context"
	"errors"
	"io"
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
	go func() {
		resp, err := cc.RoundTrip(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != http.StatusOK {
				err = errors.New(resp.Status)
			}
		}
		result <- err
	}()
	if _, err := pw.Write([]byte("{")); err != nil { // returns once sent on
		tb.Fatal(err)
	}
	return func() {
		_, _ = pw.Write([]byte("}"))
		pw.Close()
	}, result
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
// HTTP/1.1, though http.Server no longer counts the connection. Not
// parallel: waitInFlight looks at every goroutine.
func TestShutdownWaitsForH2CCalls(t *testing.T) {
	s := mustStartServer(t, nil)
	_, cc := h2cConn(t, s)
	mustCall(t, s, cc) // handed off by now
	finish, call := startListTasks(t, s, cc)
	waitInFlight(t, s)

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

// TestShutdownClosesLateH2C: a cleartext HTTP/2 connection still busy when
// SHUTDOWN_TIMEOUT is up is closed, and serve says so. Not parallel:
// waitInFlight looks at every goroutine.
func TestShutdownClosesLateH2C(t *testing.T) {
	s := mustStartServer(t, map[string]string{"SHUTDOWN_TIMEOUT": "300ms", "BODY_READ_TIMEOUT": "1m"})
	_, cc := h2cConn(t, s)
	mustCall(t, s, cc)
	_, call := startListTasks(t, s, cc) // never finished
	waitInFlight(t, s)

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
}

// TestMaxConnectionsCountsH2C: a handed-off connection keeps its place
// under MAX_CONNECTIONS until it is closed.
func TestMaxConnectionsCountsH2C(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, map[string]string{"MAX_CONNECTIONS": "1"})
	conn, cc := h2cConn(t, s)
	mustCall(t, s, cc)

	extra, err := net.Dial("tcp", s.hostPort())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	r := bufio.NewReader(extra)
	err = mustHealthz(t, extra, r, time.Now().Add(500*time.Millisecond))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a second connection was served while the HTTP/2 one was open: %v", err)
	}
	conn.Close()
	_ = extra.SetReadDeadline(time.Now().Add(attackTimeout))
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("the second connection after the first closed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the second connection after the first closed: %s", resp.Status)
	}
}

// waitInFlight waits until a server has a request whose body it is
// reading: the ListTasks of startListTasks has arrived, if no other test
// runs a server at the same time.
func waitInFlight(tb testing.TB, s *testServer) {
	tb.Helper()
	deadline := time.Now().Add(attackTimeout)
	for {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		if strings.Contains(string(buf[:n]), "service.ReadBodies") {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatal("the call never reached the server")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
