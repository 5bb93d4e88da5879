package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/attack"
)

// The attacks of issue 14, item 2, against the real server: clients that
// need no token must not be able to hold unlimited connections or streams.

// mustHealthz sends GET /healthz on conn, HTTP/1.1 with keep-alive, and
// reads the answer; it fails unless the answer is 200 before deadline.
func mustHealthz(tb testing.TB, conn net.Conn, r *bufio.Reader, deadline time.Time) error {
	tb.Helper()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return err
	}
	_ = conn.SetReadDeadline(deadline)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /healthz: %s", resp.Status)
	}
	return nil
}

// TestMaxConnections: the server holds at most MAX_CONNECTIONS
// connections; the next one is served once another closes.
func TestMaxConnections(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, map[string]string{"MAX_CONNECTIONS": "3"})
	var held []net.Conn
	for range 3 {
		conn, err := net.Dial("tcp", s.hostPort())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := mustHealthz(t, conn, bufio.NewReader(conn), time.Now().Add(attackTimeout)); err != nil {
			t.Fatal(err)
		}
		held = append(held, conn)
	}

	mustWaitForSlot(t, s, func() { held[0].Close() })
}

// mustWaitForSlot checks that s, at MAX_CONNECTIONS, serves a new
// connection only once free has closed one of those it holds.
func mustWaitForSlot(tb testing.TB, s *testServer, free func()) {
	tb.Helper()
	extra, err := net.Dial("tcp", s.hostPort()) // the kernel accepts it; the server does not
	if err != nil {
		tb.Fatal(err)
	}
	defer extra.Close()
	r := bufio.NewReader(extra)
	// Not served while the others are open: a server that served it would
	// answer well within this (a slow machine can only make the check pass
	// when it should not, never fail).
	err = mustHealthz(tb, extra, r, time.Now().Add(500*time.Millisecond))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		tb.Fatalf("a connection beyond MAX_CONNECTIONS was served: %v", err)
	}
	free()
	// The request already sent is answered once the server accepts.
	_ = extra.SetReadDeadline(time.Now().Add(attackTimeout))
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		tb.Fatalf("the waiting connection after one closed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("the waiting connection after one closed: %s", resp.Status)
	}
}

// TestIdleConnectionsClosed: a connection that sends nothing is closed
// after HEADER_READ_TIMEOUT (HTTP/1.1) or IDLE_TIMEOUT (HTTP/2, after its
// preface).
func TestIdleConnectionsClosed(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, map[string]string{"HEADER_READ_TIMEOUT": "200ms", "IDLE_TIMEOUT": "300ms"})
	for _, h2 := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), attackTimeout)
		var p attack.Progress
		attack.IdleConns(ctx, s.hostPort(), 5, h2, false, &p)
		cancel()
		if p.Started() != 5 || p.Cut() != 5 {
			t.Errorf("HTTP/2 %v: %d idle connections, %d closed by the server, want all 5", h2, p.Started(), p.Cut())
		}
	}
}

// TestLongStreamsOutliveTimeouts: watches, over HTTP/1.1 and HTTP/2, and
// the health Watch are not cut by the body, header or idle timeouts: they
// still deliver well after all three have passed.
func TestLongStreamsOutliveTimeouts(t *testing.T) {
	t.Parallel()
	const short = 100 * time.Millisecond
	s := mustStartServer(t, map[string]string{
		"BODY_READ_TIMEOUT": short.String(), "HEADER_READ_TIMEOUT": short.String(), "IDLE_TIMEOUT": short.String(),
	})
	token := s.mustToken(t, "alice")
	http1 := &http.Client{Transport: &http.Transport{}}
	watches := map[string]*watcher{
		"connect over HTTP/1.1": mustWatchWith(t, http1, s.baseURL, token, ""),
		"connect over HTTP/2":   mustWatchWith(t, h2cClient(), s.baseURL, token, ""),
		"gRPC":                  mustWatch(t, s.baseURL, token, ""),
	}
	for _, w := range watches {
		w.next(t, true)
	}
	health := grpchealth.NewClient(h2cClient(), s.baseURL, connect.WithGRPC())
	healthCtx, stopHealth := context.WithCancel(context.Background())
	defer stopHealth()
	healthEvents := health.Watch(healthCtx, &grpchealth.CheckRequest{})
	if ev := <-healthEvents; ev.Err != nil {
		t.Fatalf("health watch: %v", ev.Err)
	}

	time.Sleep(10 * short) // every timeout passes, several times over
	c := connectDialer()(t, s, token)
	task := mustCreate(t, c, &tasksv1.CreateTaskRequest{Title: "after the timeouts"})
	for name, w := range watches {
		if got := w.next(t, false).GetChanges()[0].GetTask().GetId(); got != task.GetId() {
			t.Errorf("%s: got task %s, want %s", name, got, task.GetId())
		}
	}
	select {
	case ev, ok := <-healthEvents:
		t.Fatalf("the health watch ended or changed: %v, open %v", ev, ok)
	default:
	}
}

// TestHealthWatchLimit: at most HEALTH_WATCH_MAX health watches are open;
// more are ResourceExhausted, Check still answers, and a watch that
// closes frees its place.
func TestHealthWatchLimit(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, map[string]string{"HEALTH_WATCH_MAX": "2"})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // before the server stops, which waits for open watches
	var p attack.WatchProgress
	done := make(chan struct{})
	go func() {
		defer close(done)
		attack.HealthWatches(ctx, h2cClient(), s.baseURL, 3, &p)
	}()
	deadline := time.Now().Add(attackTimeout)
	for p.Opened()+p.Refused() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if p.Opened() != 2 || p.Refused() != 1 || p.RefusedCode() != connect.CodeResourceExhausted {
		t.Fatalf("%d watches opened, %d refused (%v); want 2 and 1 ResourceExhausted", p.Opened(), p.Refused(), p.RefusedCode())
	}
	health := grpchealth.NewClient(h2cClient(), s.baseURL, connect.WithGRPC())
	if resp, err := health.Check(context.Background(), &grpchealth.CheckRequest{}); err != nil || resp.Status != grpchealth.StatusServing {
		t.Fatalf("Check with the watches full: %v, %v", resp, err)
	}
	for ev := range health.Watch(ctx, &grpchealth.CheckRequest{}) {
		if ev.Err == nil {
			t.Fatal("a third watch opened")
		}
		if reason := inspect(t, ev.Err).reason; reason != "TOO_MANY_WATCHES" {
			t.Fatalf("a third watch: %v, reason %q", ev.Err, reason)
		}
	}
	cancel()
	<-done
	// The server lets go of the watches as it notices they are gone.
	for {
		wctx, wcancel := context.WithCancel(context.Background())
		ev := <-health.Watch(wctx, &grpchealth.CheckRequest{})
		wcancel()
		if ev.Err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no watch after the others closed: %v", ev.Err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRapidReset: a connection whose client opens and resets streams,
// one after another, is closed; the server keeps serving others.
func TestRapidReset(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, nil)
	// Each stream is a POST that waits for its body, so that every one is
	// still in the server's hands when its reset arrives.
	for _, tc := range []struct {
		name   string
		target attack.Target
		resets attack.Resets
	}{
		{"TaskService", attack.Target{Addr: s.hostPort(), Token: s.mustToken(t, "alice")}, attack.Resets{PerConn: 5000}},
		{"health, no token", attack.Target{Addr: s.hostPort()}, attack.Resets{PerConn: 5000, Path: attack.HealthCheckPath}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), attackTimeout)
		var p attack.ResetProgress
		attack.RapidReset(ctx, tc.target, 1, tc.resets, &p)
		cancel()
		if p.ClosedByServer() != 1 {
			t.Errorf("%s: %d streams reset, and the server did not close the connection", tc.name, p.Streams())
		}
	}
	c := connectDialer()(t, s, s.mustToken(t, "bob"))
	mustCreate(t, c, &tasksv1.CreateTaskRequest{Title: "still served"})
}

// TestCancelsKeepConnection: a client that cancels some of its calls, as
// clients do, keeps its HTTP/2 connection.
func TestCancelsKeepConnection(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, nil)
	_, cc := h2cConn(t, s)
	token := s.mustToken(t, "alice")
	call := func(ctx context.Context, body io.Reader) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.baseURL+"/tasks.v1.TaskService/ListTasks", body)
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		return okAnswer(cc.RoundTrip(req))
	}
	for i := range 1000 {
		if i%5 == 4 {
			// A call cancelled while the server waits for its body.
			ctx, cancel := context.WithCancel(context.Background())
			pr, pw := io.Pipe()
			go func() { time.Sleep(time.Millisecond); cancel() }()
			_ = call(ctx, pr)
			pw.Close()
			continue
		}
		if err := call(context.Background(), strings.NewReader("{}")); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if st := cc.State(); st.Closed || st.Closing {
		t.Fatalf("the connection was closed: %+v", st)
	}
}
