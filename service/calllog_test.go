package service

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// logLine returns the one "rpc" line the server logged for request id,
// failing unless there is exactly one.
func (b *logBuffer) logLine(tb testing.TB, id string) string {
	tb.Helper()
	var lines []string
	for line := range strings.SplitSeq(b.String(), "\n") {
		if strings.Contains(line, "msg=rpc ") && strings.Contains(line, "request_id="+id) {
			lines = append(lines, line)
		}
	}
	if len(lines) != 1 {
		tb.Fatalf("%d rpc lines for request %s:\n%s", len(lines), id, b.String())
	}
	return lines[0]
}

var codeInLog = regexp.MustCompile(` code=(\S+) `)

// TestLogLineCode: every call's log line carries the code its client got,
// also when the call fails before any interceptor runs (a request that
// cannot be decoded or is too large, a compression the server lacks, bad
// base64 in a GET) and when it succeeds or fails in the handler; for
// unary calls and streams, over each protocol.
func TestLogLineCode(t *testing.T) {
	t.Parallel()
	srv := mustServe(t, newMemStore(), serveOptions{})
	type call func(ctx context.Context, tb testing.TB) error
	rawCall := func(codec rawCodec, do func(context.Context, taskClient) error, opts ...connect.ClientOption) func([]connect.ClientOption) call {
		return func(transport []connect.ClientOption) call {
			return func(ctx context.Context, tb testing.TB) error {
				all := slices.Concat([]connect.ClientOption{connect.WithCodec(codec)}, opts, transport)
				return do(ctx, dialConnect(tb, srv, "alice", all...))
			}
		}
	}
	watch := func(req *tasksv1.WatchTasksRequest) func([]connect.ClientOption) call {
		return func(transport []connect.ClientOption) call {
			return func(ctx context.Context, tb testing.TB) error {
				opts := slices.Clone(transport)
				x, _ := ctx.Value(exchangeKey{}).(*exchange)
				opts = append(opts, connect.WithInterceptors(streamHeader{RequestIDHeader, x.send.Get(RequestIDHeader)}))
				stream, err := dialWatcher(tb, srv, bearerFor(tb, "alice"), opts...).WatchTasks(ctx, req)
				if err != nil {
					return err
				}
				defer stream.Close()
				for stream.Receive() {
				}
				return stream.Err()
			}
		}
	}
	tests := []struct {
		name string
		call func(transport []connect.ClientOption) call
		want connect.Code // 0: ok
	}{
		{"ok", rawCall(rawCodec{"json", []byte(`{"title": "x"}`)}, create), 0},
		{"the handler's NotFound", rawCall(rawCodec{"json", []byte(`{"id": "01936d5e-8f5a-7b3c-9d2e-4f1a2b3c4d5e"}`)}, get), connect.CodeNotFound},
		{"a schema violation", rawCall(rawCodec{"json", []byte(`{"title": ""}`)}, create), connect.CodeInvalidArgument},
		{"an unknown enum name", rawCall(rawCodec{"json", []byte(`{"title": "x", "priority": "NOPE"}`)}, create), connect.CodeInvalidArgument},
		{"not protobuf", rawCall(rawCodec{"proto", []byte("\xff\xff")}, create), connect.CodeInvalidArgument},
		{"too large", rawCall(rawCodec{"json", []byte(`{"title": "` + strings.Repeat("x", testMaxRequestBytes) + `"}`)}, create), connect.CodeResourceExhausted},
		{"a compression the server lacks", rawCall(rawCodec{"json", []byte(`{"title": "x"}`)}, create, connect.WithSendCompression("br"), connect.WithAcceptCompression("br", newNopDecompressor, newNopCompressor)), connect.CodeUnimplemented},
		{"a watch refused by the handler", watch(&tasksv1.WatchTasksRequest{Cursor: "not a cursor"}), connect.CodeInvalidArgument},
	}
	for _, tr := range rawTransports {
		for i, tt := range tests {
			t.Run(tr.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				id := fmt.Sprintf("log-%s-%d", tr.name, i)
				x := &exchange{send: http.Header{RequestIDHeader: {id}}}
				err := tt.call(tr.opts)(withExchange(context.Background(), x), t)
				if got := connect.CodeOf(err); err != nil && got != tt.want || err == nil && tt.want != 0 {
					t.Fatalf("call: %v, want code %v", err, codeName(tt.want))
				}
				line := srv.logs.logLine(t, id)
				if m := codeInLog.FindStringSubmatch(line); m == nil || m[1] != codeName(tt.want) {
					t.Errorf("logged %q, want code=%s", line, codeName(tt.want))
				}
			})
		}
	}

	// A Connect GET whose base64 is bad, answered before connect-go reads
	// it.
	mustSend(t, http.MethodGet, srv.url+"/tasks.v1.TaskService/GetTask?encoding=proto&base64=1&message=!!", http.Header{
		"Authorization": {"Bearer " + bearerFor(t, "alice")},
		RequestIDHeader: {"log-bad-base64"},
	})
	if line := srv.logs.logLine(t, "log-bad-base64"); !strings.Contains(line, " code=invalid_argument ") {
		t.Errorf("logged %q, want code=invalid_argument", line)
	}
}

// mustSend sends a request with no body and header, and drops the answer.
func mustSend(tb testing.TB, method, url string, header http.Header) {
	tb.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
}

// streamHeader sends a header on streams.
type streamHeader struct{ name, value string }

func (h streamHeader) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc { return next }

func (h streamHeader) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		conn.RequestHeader().Set(h.name, h.value)
		return conn
	}
}

func (streamHeader) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

func get(ctx context.Context, c taskClient) error {
	_, err := c.GetTask(ctx, &tasksv1.GetTaskRequest{})
	return err
}

// identity is a compression the server does not know, for a client to
// send: it changes nothing.
type identity struct{ io.Writer }

func (identity) Close() error         { return nil }
func (i *identity) Reset(w io.Writer) { i.Writer = w }

type identityReader struct{ io.Reader }

func (identityReader) Close() error                { return nil }
func (r *identityReader) Reset(rd io.Reader) error { r.Reader = rd; return nil }

func newNopDecompressor() connect.Decompressor { return &identityReader{} }
func newNopCompressor() connect.Compressor     { return &identity{} }

// TestLogLineCodeAfterTheHandler: a response that cannot be encoded is
// answered Internal by connect-go after every interceptor has returned;
// the log line says internal, not ok. (The TaskService's own responses
// are always encodable, see repairs: this handler returns a Timestamp out
// of range, as a stored task once did.)
func TestLogLineCodeAfterTheHandler(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	path := "/test.v1.Broken/Get"
	codecOpts, refuse := codecs()
	broken := connect.NewUnaryHandler(path,
		func(context.Context, *connect.Request[timestamppb.Timestamp]) (*connect.Response[timestamppb.Timestamp], error) {
			return connect.NewResponse(&timestamppb.Timestamp{Seconds: 1 << 40}), nil
		}, codecOpts, connect.WithInterceptors(refuse))
	srv := httptest.NewServer(logCalls(broken, logger))
	t.Cleanup(srv.Close)
	c := connect.NewClient[timestamppb.Timestamp, timestamppb.Timestamp](srv.Client(), srv.URL+path, connect.WithProtoJSON())
	req := connect.NewRequest(&timestamppb.Timestamp{})
	req.Header().Set(RequestIDHeader, "broken")
	_, err := c.CallUnary(context.Background(), req)
	if connect.CodeOf(err) != connect.CodeInternal {
		t.Fatalf("got %v, want internal", err)
	}
	line := logs.logLine(t, "broken")
	if !strings.Contains(line, " code=internal ") || !strings.Contains(line, "level=ERROR") {
		t.Errorf("logged %q, want an error with code=internal", line)
	}
}

// TestOutcomeFrames: the end of a stream is read however the body is cut
// into writes, compressed or not.
func TestOutcomeFrames(t *testing.T) {
	t.Parallel()
	frame := func(flags byte, data []byte) []byte {
		return append([]byte{flags, byte(len(data) >> 24), byte(len(data) >> 16), byte(len(data) >> 8), byte(len(data))}, data...)
	}
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		io.WriteString(w, s)
		w.Close()
		return b.Bytes()
	}
	tests := []struct {
		name, contentType string
		body              []byte
		want              connect.Code
	}{
		{"connect stream, error", "application/connect+proto",
			slices.Concat(frame(0, []byte("message")), frame(0, nil), frame(2, []byte(`{"error": {"code": "not_found", "message": "x"}}`))), connect.CodeNotFound},
		{"connect stream, compressed error", "application/connect+json",
			slices.Concat(frame(0, []byte("{}")), frame(3, gz(`{"metadata": {"a": ["b"]}, "error": {"code": "aborted"}}`))), connect.CodeAborted},
		{"connect stream, success", "application/connect+proto", slices.Concat(frame(0, []byte("m")), frame(2, []byte(`{}`))), 0},
		{"connect stream, no end", "application/connect+proto", frame(0, []byte("m")), connect.CodeUnknown},
		{"grpc-web, trailers", "application/grpc-web+proto",
			slices.Concat(frame(0, []byte("message")), frame(0x80, []byte("grpc-message: no\r\ngrpc-status: 5\r\n"))), connect.CodeNotFound},
		{"grpc-web, compressed trailers", "application/grpc-web+proto", frame(0x81, gz("grpc-status: 0\r\n")), 0},
	}
	for _, tt := range tests {
		for _, step := range []int{1, 3, 1 << 20} {
			t.Run(fmt.Sprintf("%s/writes of %d", tt.name, step), func(t *testing.T) {
				t.Parallel()
				r := httptest.NewRequest(http.MethodPost, "/", nil)
				r.Header.Set("Content-Type", tt.contentType)
				o := newOutcome(httptest.NewRecorder(), r)
				for b := tt.body; len(b) > 0; b = b[min(step, len(b)):] {
					o.Write(b[:min(step, len(b))])
				}
				if got := o.code(); got != tt.want {
					t.Errorf("code %s, want %s", codeName(got), codeName(tt.want))
				}
			})
		}
	}
}

// TestLogLineLevel: a server fault is an error in the log, a request that
// is no call at all (a preflight with no CORS configured) is not.
func TestLogLineLevel(t *testing.T) {
	t.Parallel()
	srv := mustServe(t, newMemStore(), serveOptions{})
	mustSend(t, http.MethodOptions, srv.url+"/tasks.v1.TaskService/ListTasks", http.Header{
		"Origin":                        {"https://app.example.com"},
		"Access-Control-Request-Method": {"POST"},
		RequestIDHeader:                 {"preflight"},
	})
	if line := srv.logs.logLine(t, "preflight"); !strings.Contains(line, "level=INFO") {
		t.Errorf("logged %q, want level=INFO", line)
	}
}
