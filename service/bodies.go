package service

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
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
}

// bodyMargin is what a request body may hold beyond its message: the
// envelope and compression headers, and what a compressed message may take
// before it is found too large once decompressed.
const bodyMargin = 64 << 10

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
// same error, so next refuses it exactly as it would have. Cut-offs are
// logged at debug level: on the internet they are routine.
func ReadBodies(next http.Handler, limits BodyLimits, logger *slog.Logger) http.Handler {
	streamed := newPathList(limits.Streamed)
	errw := connect.NewErrorWriter()
	var buffers sync.Pool
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
		rc := http.NewResponseController(w)
		// Without support for deadlines (no server here lacks it), the
		// body is still read first, only without a limit in time.
		_ = rc.SetReadDeadline(time.Now().Add(limits.Timeout))
		buf, _ := buffers.Get().(*bytes.Buffer)
		if buf == nil {
			buf = new(bytes.Buffer)
		}
		defer func() {
			if buf.Cap() <= bodyMargin {
				buf.Reset()
				buffers.Put(buf)
			}
		}()
		_, err := buf.ReadFrom(r.Body)
		switch {
		case err == nil:
			// The deadline was for the body alone: lifted, it can end
			// nothing later, whatever the protocol does with it (HTTP/1.1
			// lifts it too when it reads ahead; HTTP/2 ignores it once the
			// body has ended).
			_ = rc.SetReadDeadline(time.Time{})
			r.Body = io.NopCloser(bytes.NewReader(buf.Bytes()))
		case errors.Is(err, os.ErrDeadlineExceeded):
			logger.DebugContext(r.Context(), "request body not received in time", "path", r.URL.Path, "proto", r.Proto, "remote", r.RemoteAddr, "read", buf.Len())
			slowBody(errw, w, r, limits.Timeout)
			return
		default:
			r.Body = replayBody{io.MultiReader(bytes.NewReader(buf.Bytes()), errReader{err}), r.Body}
		}
		next.ServeHTTP(w, r)
	})
}

// slowBody answers a request whose body did not arrive in time.
func slowBody(errw *connect.ErrorWriter, w http.ResponseWriter, r *http.Request, timeout time.Duration) {
	if r.ProtoMajor == 1 {
		// What is left of the body will never be read: the connection
		// cannot carry another request. (On HTTP/2 this header would close
		// the whole connection; the stream alone is reset there.)
		w.Header().Set("Connection", "close")
	}
	cerr := ConnectError(tasks.Errorf(tasks.KindDeadline, "request body not received within %v", timeout))
	if errw.IsSupported(r) {
		_ = errw.Write(w, r, cerr)
		return
	}
	http.Error(w, cerr.Message(), http.StatusRequestTimeout)
}

// replayBody is a body read up front, handed on with what stopped the
// read.
type replayBody struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
