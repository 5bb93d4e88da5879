package service

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	"github.com/example/tasks"
)

// BodyLimits bound what a client can make the server hold while it sends a
// request.
type BodyLimits struct {
	// MaxBytes is the largest request message (MAX_REQUEST_BYTES). A body
	// may hold a little more on the wire (an envelope, compression
	// headers); past that it is cut off, and the handler refuses it as too
	// large.
	MaxBytes int64
	// Timeout is how long a client has, from its headers, to send a body
	// (BODY_READ_TIMEOUT).
	Timeout time.Duration
	// Streamed lists the paths whose request body is a stream of messages
	// that ends with the call (client and bidirectional streams, such as
	// gRPC reflection): they are capped at MaxBytes but not read up front
	// and have no deadline. An entry ending in "/" is a prefix.
	Streamed []string
	// MaxBuffered bounds the bytes of request bodies held at once, across
	// all requests, from the first byte read until the call ends: a body
	// that would take the total past it is refused Unavailable (the
	// server is overloaded), as LimitInFlight sheds calls. Reading a body
	// before any limit applies is what keeps slow clients from holding
	// the in-flight slots; without this bound it would let fast clients
	// hold MaxBytes per stream on every stream of every connection. 0: no
	// bound.
	MaxBuffered int64
	// PerUser bounds one user's requests whose bodies are being read at
	// once; more are refused ResourceExhausted (TOO_MANY_REQUESTS) at
	// once, so that one user's slow or stalled bodies cannot take the
	// whole of MaxBuffered, nor hold goroutines by the thousand. Requests
	// without a user (health checks) are not counted. 0: no bound.
	PerUser int
}

// bodyMargin is what a request body may hold beyond its message: the
// envelope and compression headers, and what a compressed message may take
// before it is found too large once decompressed.
const bodyMargin = 64 << 10

// smallBody is the largest body ReadBodies copies out of its pooled
// buffer, so that the buffer goes back at once rather than when the call
// ends. A server stream keeps its request for as long as it is open (a
// watch for up to half an hour): 10,000 idle watches held about 10 MiB of
// buffers for bodies of a few dozen bytes, and a pooled buffer is as
// large as the largest body it ever held, up to bodyMargin. Most unary
// bodies are this small too; copying one costs a small allocation.
const smallBody = 1 << 10

// ReadBodies returns middleware that reads each request's body in full
// before next runs, within limits.Timeout of the headers. A client that
// trickles its body in then costs the server a goroutine for that long,
// not for as long as it likes, and holds nothing meant for work: the
// limits of LimitInFlight apply only once the body is in. A body not in by
// then is answered DeadlineExceeded (408 outside the RPC protocols), and
// on HTTP/1.1 the connection is closed; on HTTP/2 the stream is reset.
//
// A server stream's single request message (WatchTasks, the health
// Watch) is read like a unary call's; the stream that follows has no
// deadline. A body larger than limits.MaxBytes (plus a margin) or one
// that fails is handed to next as far as it was read, followed by the
// same error, so next refuses it exactly as it would have; unless the
// request's context has ended (the client reset the stream): then it is
// not answered at all. Cut-offs are logged at debug level: on the
// internet they are routine.
func ReadBodies(next http.Handler, limits BodyLimits, logger *slog.Logger, t *Telemetry) http.Handler {
	streamed := newPathList(limits.Streamed)
	errw := connect.NewErrorWriter()
	var buffers sync.Pool
	readers := newUserLimits(Limits{MaxInFlightPerUser: limits.PerUser})
	tooMany := ConnectError(tasks.Errorf(tasks.KindTooManyRequests, "more than %d requests being sent at once; retry when some have finished", limits.PerUser))
	budget := &bodyBudget{max: limits.MaxBuffered}
	overloaded := overloadedError()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limits.MaxBytes+bodyMargin)
		if streamed.matches(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		user, _ := tasks.UserFrom(r.Context())
		if !readers.acquire(user.ID) {
			t.Refused(r.Context(), RefusedRateLimited)
			refuseUnread(errw, w, r, tooMany)
			return
		}
		body := &budgetReader{r: r.Body, budget: budget}
		defer body.release()
		rc := http.NewResponseController(w)
		// Without support for deadlines (no server here lacks it), the
		// body is still read first, only without a limit in time.
		_ = rc.SetReadDeadline(time.Now().Add(limits.Timeout))
		buf, _ := buffers.Get().(*bytes.Buffer)
		if buf == nil {
			buf = new(bytes.Buffer)
		}
		putBack := func() {
			if buf != nil && buf.Cap() <= bodyMargin {
				buf.Reset()
				buffers.Put(buf)
			}
			buf = nil
		}
		defer putBack()
		err := func() error {
			defer readers.release(user.ID) // the user's share is for receiving only
			_, err := buf.ReadFrom(body)
			return err
		}()
		switch {
		case err == nil:
			// The deadline was for the body alone: lifted, it can end
			// nothing later, whatever the protocol does with it (HTTP/1.1
			// lifts it too when it reads ahead; HTTP/2 ignores it once the
			// body has ended).
			_ = rc.SetReadDeadline(time.Time{})
			if err := checkEnvelopes(r.Header, buf.Bytes()); err != nil {
				_ = errw.Write(w, r, ConnectError(tasks.Errorf(tasks.KindInvalid, "%s", err.Error())))
				return
			}
			held := buf.Bytes()
			if len(held) <= smallBody {
				held = bytes.Clone(held)
				putBack()
			}
			r.Body = io.NopCloser(bytes.NewReader(held))
		case errors.Is(err, errOverBudget):
			t.Refused(r.Context(), RefusedShed)
			refuseUnread(errw, w, r, overloaded)
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			logger.DebugContext(r.Context(), "request body not received in time", "path", r.URL.Path, "proto", r.Proto, "remote", r.RemoteAddr, "read", buf.Len())
			slowBody(errw, w, r, limits.Timeout)
			return
		case r.Context().Err() != nil:
			// The client reset the stream (or went) before its body was
			// in: nobody is waiting for an answer, and giving one would
			// run the call's whole error path for each stream a
			// rapid-reset client opens and drops.
			return
		default:
			r.Body = replayBody{io.MultiReader(bytes.NewReader(buf.Bytes()), errReader{err}), r.Body}
		}
		next.ServeHTTP(w, r)
	})
}

// slowBody answers a request whose body did not arrive in time.
func slowBody(errw *connect.ErrorWriter, w http.ResponseWriter, r *http.Request, timeout time.Duration) {
	refuseUnread(errw, w, r, ConnectError(tasks.Errorf(tasks.KindDeadline, "request body not received within %v", timeout)))
}

// refuseUnread answers a request whose body is left unread, in its
// protocol (408 for a deadline, 503 or 429 otherwise, outside the RPC
// protocols).
func refuseUnread(errw *connect.ErrorWriter, w http.ResponseWriter, r *http.Request, cerr *connect.Error) {
	leaveBodyUnread(w, r)
	if errw.IsSupported(r) {
		_ = errw.Write(w, r, cerr)
		return
	}
	status := http.StatusServiceUnavailable
	switch cerr.Code() {
	case connect.CodeDeadlineExceeded:
		status = http.StatusRequestTimeout
	case connect.CodeResourceExhausted:
		status = http.StatusTooManyRequests
	}
	http.Error(w, cerr.Message(), status)
}

// leaveBodyUnread makes sure the rest of a request's body is not waited
// for long. On HTTP/1.1 the connection cannot carry another request, so it
// is closed after the answer; and net/http, once the handler has returned,
// reads (and discards) up to 256 KiB of what is left, so that a client
// still sending reads the answer rather than a reset connection. It does
// so with no deadline at all: a client trickling its body would hold the
// connection for as long as it liked. unreadBodyGrace bounds that read.
// (On HTTP/2 the stream alone is reset; the Connection header would close
// the whole connection there.)
func leaveBodyUnread(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor != 1 || r.Body == nil || r.Body == http.NoBody {
		return
	}
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(unreadBodyGrace))
}

// unreadBodyGrace is how long net/http may go on reading a refused
// request's body: ample for a client sending at any normal speed.
const unreadBodyGrace = time.Second

// bodyBudget is the bytes of request bodies held at once
// (BodyLimits.MaxBuffered).
type bodyBudget struct {
	max  int64 // 0: no bound
	used atomic.Int64
}

var errOverBudget = errors.New("request bodies over the server's budget")

// budgetReader counts what it reads against a budget, failing the read
// that takes the total past it; release gives it all back.
type budgetReader struct {
	r      io.Reader
	budget *bodyBudget
	n      int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 && b.budget.max > 0 {
		b.n += int64(n)
		if b.budget.used.Add(int64(n)) > b.budget.max {
			return n, errOverBudget
		}
	}
	return n, err
}

func (b *budgetReader) release() { b.budget.used.Add(-b.n) }

// replayBody is a body read up front, handed on with what stopped the
// read.
type replayBody struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
