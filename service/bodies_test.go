package service

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
)

// stallingTransport sends the first byte of each request body (or the
// first first bytes), then nothing more until the call is cancelled: a
// client stuck, or pretending to be, halfway through its request.
type stallingTransport struct {
	base  http.RoundTripper
	first int // 0: 1
}

func (s stallingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &stallingBody{body: r.Body, ctx: r.Context(), left: max(s.first, 1), closed: make(chan struct{})}
	}
	return s.base.RoundTrip(r)
}

type stallingBody struct {
	body      io.ReadCloser
	ctx       context.Context
	left      int // to send before stalling
	closed    chan struct{}
	closeOnce sync.Once
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if b.left > 0 && len(p) > 0 {
		n, err := b.body.Read(p[:min(len(p), b.left)])
		b.left -= n
		if err == io.EOF {
			b.left = 0
			err = nil // the rest of the body (none) stalls like any other
		}
		return n, err
	}
	select {
	case <-b.ctx.Done():
		return 0, b.ctx.Err()
	case <-b.closed:
		// The transport closes the body once the answer is in: what was
		// left unsent no longer matters, and an error here would race the
		// answer to the caller.
		return 0, io.EOF
	}
}

func (b *stallingBody) Close() error {
	b.closeOnce.Do(func() { close(b.closed) })
	return b.body.Close()
}

// dialStalling returns a connect-go client as user whose request bodies
// stall after one byte, over HTTP/1.1 or cleartext HTTP/2.
func dialStalling(tb testing.TB, s *apiServer, user string, http1 bool, opts ...connect.ClientOption) tasksv1connect.TaskServiceClient {
	tb.Helper()
	return dialStallingAfter(tb, s, user, http1, 1, opts...)
}

// dialStallingAfter is dialStalling with bodies that stall after their
// first first bytes.
func dialStallingAfter(tb testing.TB, s *apiServer, user string, http1 bool, first int, opts ...connect.ClientOption) tasksv1connect.TaskServiceClient {
	tb.Helper()
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetHTTP1(http1)
	tr.Protocols.SetUnencryptedHTTP2(!http1)
	tb.Cleanup(tr.CloseIdleConnections)
	opts = append(opts, connect.WithInterceptors(exchangeInterceptor(bearerFor(tb, user))))
	return tasksv1connect.NewTaskServiceClient(&http.Client{Transport: stallingTransport{tr, first}}, s.url, opts...)
}

// bodyProtocols are the connect-go protocols with request bodies (a GET
// has none), over HTTP/2 and, where the protocol allows, HTTP/1.1.
var bodyProtocols = []struct {
	name  string
	http1 bool
	opts  []connect.ClientOption
}{
	{"connect", false, nil},
	{"connect-http1", true, nil},
	{"connect-json-http1", true, []connect.ClientOption{connect.WithProtoJSON()}},
	{"grpc-web", false, []connect.ClientOption{connect.WithGRPCWeb()}},
	{"grpc-web-http1", true, []connect.ClientOption{connect.WithGRPCWeb()}},
	{"grpc", false, []connect.ClientOption{connect.WithGRPC()}},
}

// TestSlowBodyCutOff: a request whose body does not arrive within the
// body timeout is answered DeadlineExceeded, in the caller's protocol,
// whatever deadline the call itself has.
func TestSlowBodyCutOff(t *testing.T) {
	t.Parallel()
	srv := mustServe(t, newMemStore(), serveOptions{bodyTimeout: 100 * time.Millisecond})
	for _, p := range bodyProtocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			c := dialStalling(t, srv, "alice", p.http1, p.opts...)
			// The call's own deadline is far beyond the body's; should the
			// server wait for the body, this one ends the call, without
			// the server's reason.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := c.CreateTask(ctx, &tasksv1.CreateTaskRequest{Title: "never arrives"})
			cerr := mustFailWith(t, err, connect.CodeDeadlineExceeded, ReasonUnavailable)
			if want := "request body not received within 100ms"; cerr.Message() != want {
				t.Errorf("message %q, want %q", cerr.Message(), want)
			}
		})
	}
}

// TestSlowBodyHoldsNoSlot: a request waiting for its body takes no
// in-flight slot: with one slot and a body that never comes, other calls,
// the same user's included, are served.
func TestSlowBodyHoldsNoSlot(t *testing.T) {
	t.Parallel()
	for _, p := range bodyProtocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			arrived := make(chan struct{}, 1)
			srv := mustServe(t, newMemStore(), serveOptions{limits: Limits{MaxInFlight: 1}, outer: func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Header.Get("X-Slow") != "" {
						arrived <- struct{}{}
					}
					next.ServeHTTP(w, r)
				})
			}})
			slow := dialStalling(t, srv, "alice", p.http1, p.opts...)
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel) // before the server closes, which waits for the call
			stalled := make(chan error, 1)
			go func() {
				_, err := slow.CreateTask(withExchange(ctx, &exchange{send: http.Header{"X-Slow": {"1"}}}), &tasksv1.CreateTaskRequest{Title: "slow"})
				stalled <- err
			}()
			<-arrived
			for _, user := range []string{"alice", "bob"} {
				c := dialConnect(t, srv, user)
				for range 3 {
					if _, err := c.CreateTask(context.Background(), &tasksv1.CreateTaskRequest{Title: "quick"}); err != nil {
						t.Fatalf("%s's call beside a stalled body: %v", user, err)
					}
				}
			}
			select {
			case err := <-stalled:
				t.Fatalf("the stalled call ended: %v", err)
			default:
			}
			cancel()
			<-stalled
		})
	}
}

// arrivals returns an outer handler that reports each request with an
// X-Slow header on arrived, for serveOptions.outer.
func arrivals(arrived chan<- struct{}) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Slow") != "" {
				arrived <- struct{}{}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// bodyIn tells in once the server has read n bytes of the body of a
// request sent with X-Slow.
func bodyIn(n int, in chan<- struct{}) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Slow") != "" {
				r.Body = &countingBody{ReadCloser: r.Body, left: n, in: in}
			}
			next.ServeHTTP(w, r)
		})
	}
}

type countingBody struct {
	io.ReadCloser
	left int
	in   chan<- struct{}
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.left > 0 {
		if b.left -= n; b.left <= 0 {
			b.in <- struct{}{}
		}
	}
	return n, err
}

// stall starts a call of c whose body stalls, and returns what it ends
// with and what cancels it (the test's cleanup cancels it too).
func stall(t *testing.T, c tasksv1connect.TaskServiceClient, req *tasksv1.CreateTaskRequest) (<-chan error, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() {
		_, err := c.CreateTask(withExchange(ctx, &exchange{send: http.Header{"X-Slow": {"1"}}}), req)
		done <- err
	}()
	return done, cancel
}

// TestSlowBodiesPerUser: one user's requests whose bodies are still coming
// are bounded (BodyLimits.PerUser); more are TOO_MANY_REQUESTS at once,
// and other users are served.
func TestSlowBodiesPerUser(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 2)
	srv := mustServe(t, newMemStore(), serveOptions{bodies: BodyLimits{PerUser: 2}, outer: arrivals(arrived)})
	slow := dialStalling(t, srv, "alice", false)
	for range 2 {
		stall(t, slow, &tasksv1.CreateTaskRequest{Title: "slow"})
		<-arrived
	}
	alice, bob := dialConnect(t, srv, "alice"), dialConnect(t, srv, "bob")
	// A stalled request arrives (above) before its user is counted (in
	// ReadBodies): a third call may still slip in, once.
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err = alice.CreateTask(context.Background(), &tasksv1.CreateTaskRequest{Title: "a third"}); err != nil {
			break
		}
	}
	mustFailWith(t, err, connect.CodeResourceExhausted, ReasonTooManyRequests)
	if _, err := bob.CreateTask(context.Background(), &tasksv1.CreateTaskRequest{Title: "another user"}); err != nil {
		t.Fatalf("bob beside alice's stalled bodies: %v", err)
	}
}

// TestBodyBudget: the bytes of bodies held at once are bounded
// (BodyLimits.MaxBuffered): a body that would take them past it is
// Unavailable, a small one still fits, and what a call held is given back
// when it ends. (The large bodies' tag is too long for the schema: a call
// that gets past the budget is InvalidArgument.)
func TestBodyBudget(t *testing.T) {
	t.Parallel()
	const sent = 40 << 10
	in := make(chan struct{}, 1)
	srv := mustServe(t, newMemStore(), serveOptions{bodies: BodyLimits{MaxBuffered: 50 << 10}, outer: bodyIn(sent, in)})
	large := func(n int) *tasksv1.CreateTaskRequest {
		return &tasksv1.CreateTaskRequest{Title: "large", Tags: []string{strings.Repeat("t", n)}}
	}
	// 40 KiB in, the rest never: held until the call ends. Bob starts once
	// the server has read them all: a call of his still being read while
	// they arrive would push them over the budget instead.
	held, cancel := stall(t, dialStallingAfter(t, srv, "alice", false, sent), large(60<<10))
	<-in
	bob := dialConnect(t, srv, "bob")
	// until answers bob's 16 KiB call until it fails with code: the held
	// body's bytes reach the server in their own time, and leave it when
	// its call has ended there.
	until := func(code connect.Code) error {
		t.Helper()
		var err error
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if _, err = bob.CreateTask(context.Background(), large(16<<10)); connect.CodeOf(err) == code {
				break
			}
		}
		return err
	}
	mustFailWith(t, until(connect.CodeUnavailable), connect.CodeUnavailable, ReasonUnavailable)
	if _, err := bob.CreateTask(context.Background(), &tasksv1.CreateTaskRequest{Title: "small"}); err != nil {
		t.Fatalf("a small body beside the held one: %v", err)
	}
	cancel()
	<-held
	mustFailWith(t, until(connect.CodeInvalidArgument), connect.CodeInvalidArgument, ReasonValidation)
}

// TestRefusedSlowBodyClosed: a request refused before its body is read
// (without a token; over its user's share of bodies being received) has
// its HTTP/1.1 connection closed after the answer, however slowly the
// rest of the body comes: net/http would otherwise wait for it with no
// deadline, holding the connection.
func TestRefusedSlowBodyClosed(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	srv := mustServe(t, newMemStore(), serveOptions{bodies: BodyLimits{PerUser: 1}, outer: arrivals(arrived)})
	stall(t, dialStalling(t, srv, "alice", false), &tasksv1.CreateTaskRequest{Title: "holds alice's share"})
	<-arrived
	for _, tc := range []struct{ name, token, status string }{
		{"no token", "", "401"},
		{"over the user's share", bearerFor(t, "alice"), "429"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			head := "POST " + tasksv1connect.TaskServiceCreateTaskProcedure + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
			if tc.token != "" {
				head += "Authorization: Bearer " + tc.token + "\r\n"
			}
			if _, err := conn.Write([]byte(head + "\r\n{")); err != nil { // 1 byte of 100
				t.Fatal(err)
			}
			// The answer, then the end of the connection; the bound is
			// for a server that never closes it.
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			got, err := io.ReadAll(conn)
			if err != nil {
				t.Fatalf("the connection was not closed: %v (read %q)", err, got)
			}
			if !strings.HasPrefix(string(got), "HTTP/1.1 "+tc.status) {
				t.Fatalf("answer %.80q, want %s", got, tc.status)
			}
		})
	}
}

// TestSmallBodyOwnCopy: a small body is copied out of the pooled buffer it
// was read into, so the buffer can go back to the pool while the call is
// still running (a watch keeps its request for half an hour). The body a
// call holds stays its own whatever later requests read into that buffer.
func TestSmallBodyOwnCopy(t *testing.T) {
	var kept []io.Reader
	h := ReadBodies(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		kept = append(kept, r.Body) // read only after later requests
	}), BodyLimits{MaxBytes: 1 << 20, Timeout: time.Second}, slog.New(slog.DiscardHandler), nil)

	bodies := []string{strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", smallBody)}
	for _, b := range bodies {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(b)))
	}
	for i, r := range kept {
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != bodies[i] {
			t.Errorf("body %d read after later requests: %.12q..., want %.12q...", i, got, bodies[i])
		}
	}
}

// TestResetBodyNotAnswered: a request whose client is gone before its body
// is in (a reset HTTP/2 stream: its context ends, its body fails) is not
// handed on to be answered; one whose body fails while its client is still
// there is, so that it is refused in its protocol.
func TestResetBodyNotAnswered(t *testing.T) {
	var served int
	h := ReadBodies(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		served++
	}), BodyLimits{MaxBytes: 1 << 20, Timeout: time.Second}, slog.New(slog.DiscardHandler), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	gone := httptest.NewRequestWithContext(ctx, http.MethodPost, "/x", io.MultiReader(strings.NewReader("part"), errReader{context.Canceled}))
	h.ServeHTTP(httptest.NewRecorder(), gone)
	if served != 0 {
		t.Errorf("a reset request's failed body was handed on %d times, want none", served)
	}
	there := httptest.NewRequest(http.MethodPost, "/x", io.MultiReader(strings.NewReader("part"), errReader{io.ErrUnexpectedEOF}))
	h.ServeHTTP(httptest.NewRecorder(), there)
	if served != 1 {
		t.Errorf("a failed body of a client still there was handed on %d times, want once", served)
	}
}
