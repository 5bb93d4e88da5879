package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
	"github.com/example/tasks/internal/tasksgrpc"
	"github.com/example/tasks/internal/validationcases"
)

// testServer is the real server (serve) running in-process on a loopback
// port, over HTTP/1.1 and cleartext HTTP/2.
type testServer struct {
	baseURL string
	cfg     config
	stop    context.CancelFunc
	done    chan error
}

// mustStartServer runs serve with a fresh SQLite database (or databaseURL)
// and an HMAC secret, and stops it when the test ends. env overrides
// settings by variable name.
func mustStartServer(tb testing.TB, env map[string]string) *testServer {
	tb.Helper()
	return mustStartServerWith(tb, env, nil)
}

// mustStartServerWith is mustStartServer with edit, when not nil, applied
// to the configuration: for what is no setting.
func mustStartServerWith(tb testing.TB, env map[string]string, edit func(*config)) *testServer {
	tb.Helper()
	vars := map[string]string{
		"LISTEN_ADDR":          "127.0.0.1:0",
		"DATA_DIR":             tb.TempDir(),
		"AUTH_JWT_SECRET":      mustRandomHex(tb, 32),
		"CORS_ALLOWED_ORIGINS": "https://app.example.com",
		"LOG_LEVEL":            "error",
		"HEALTH_INTERVAL":      "100ms",
		"SHUTDOWN_TIMEOUT":     "10s",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := parseConfig("test", nil, envMap(vars), parseOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	if edit != nil {
		edit(&cfg)
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &testServer{cfg: cfg, stop: stop, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		s.done <- serve(ctx, cfg, io.Discard, func(baseURL string) { ready <- baseURL })
	}()
	select {
	case s.baseURL = <-ready:
	case err := <-s.done:
		stop()
		tb.Fatalf("server did not start: %v", err)
	}
	tb.Cleanup(func() {
		stop()
		if err := <-s.done; err != nil {
			tb.Errorf("server stopped with: %v", err)
		}
	})
	return s
}

// shutdown stops the server and returns what serve returned.
func (s *testServer) shutdown() error {
	s.stop()
	err := <-s.done
	s.done <- nil // for the cleanup
	return err
}

func (s *testServer) hostPort() string { return strings.TrimPrefix(s.baseURL, "http://") }

// mustToken mints a token for user with the server's secret.
func (s *testServer) mustToken(tb testing.TB, user string) string {
	tb.Helper()
	token, err := mintToken(s.cfg, user, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return token
}

func mustRandomHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// h2cClient speaks cleartext HTTP/2, as gRPC clients do.
func h2cClient() *http.Client {
	tr := &http.Transport{}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: tr}
}

// taskAPI is TaskService as every client under test exposes it. A watch
// is reduced to its first message (watch tests use the clients
// themselves).
type taskAPI interface {
	CreateTask(context.Context, *tasksv1.CreateTaskRequest) (*tasksv1.CreateTaskResponse, error)
	GetTask(context.Context, *tasksv1.GetTaskRequest) (*tasksv1.GetTaskResponse, error)
	ListTasks(context.Context, *tasksv1.ListTasksRequest) (*tasksv1.ListTasksResponse, error)
	UpdateTask(context.Context, *tasksv1.UpdateTaskRequest) (*tasksv1.UpdateTaskResponse, error)
	DeleteTask(context.Context, *tasksv1.DeleteTaskRequest) (*tasksv1.DeleteTaskResponse, error)
	ListTaskChanges(context.Context, *tasksv1.ListTaskChangesRequest) (*tasksv1.ListTaskChangesResponse, error)
	WatchFirst(context.Context, *tasksv1.WatchTasksRequest) (*tasksv1.WatchTasksResponse, error)
}

// protocols are the ways clients reach the server: connect-go with each
// protocol and codec, and grpc-go as another Go service would.
var protocols = []struct {
	name string
	dial func(tb testing.TB, s *testServer, token string) taskAPI
}{
	{"connect-json", connectDialer(connect.WithProtoJSON())},
	{"connect-proto", connectDialer()},
	{"connect-get", connectDialer(connect.WithHTTPGet(), connect.WithProtoJSON())},
	{"grpc-web", connectDialer(connect.WithGRPCWeb())},
	{"grpc", connectDialer(connect.WithGRPC())},
	{"grpc-go", dialGRPCGo},
}

func connectDialer(opts ...connect.ClientOption) func(testing.TB, *testServer, string) taskAPI {
	return func(_ testing.TB, s *testServer, token string) taskAPI {
		opts := append(opts, connect.WithInterceptors(bearer(token)))
		return connectAPI{tasksv1connect.NewTaskServiceClient(h2cClient(), s.baseURL, opts...)}
	}
}

// connectAPI is a connect-go client as a taskAPI.
type connectAPI struct {
	tasksv1connect.TaskServiceClient
}

func (c connectAPI) WatchFirst(ctx context.Context, r *tasksv1.WatchTasksRequest) (*tasksv1.WatchTasksResponse, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.WatchTasks(ctx, r)
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	if !stream.Receive() {
		return nil, stream.Err()
	}
	return stream.Msg(), nil
}

// bearer sends token (when not empty) as the Authorization header, on calls
// and streams.
type bearer string

func (b bearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if b != "" {
			req.Header().Set("Authorization", "Bearer "+string(b))
		}
		return next(ctx, req)
	}
}

func (b bearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		if b != "" {
			conn.RequestHeader().Set("Authorization", "Bearer "+string(b))
		}
		return conn
	}
}

func (bearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

type grpcGoClient struct{ c tasksgrpc.TaskServiceClient }

func dialGRPCGo(tb testing.TB, s *testServer, token string) taskAPI {
	tb.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearerCreds(token)))
	}
	conn, err := grpc.NewClient(s.hostPort(), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return grpcGoClient{tasksgrpc.NewTaskServiceClient(conn)}
}

type bearerCreds string

func (b bearerCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}
func (bearerCreds) RequireTransportSecurity() bool { return false }

func (g grpcGoClient) CreateTask(ctx context.Context, r *tasksv1.CreateTaskRequest) (*tasksv1.CreateTaskResponse, error) {
	return g.c.CreateTask(ctx, r)
}
func (g grpcGoClient) GetTask(ctx context.Context, r *tasksv1.GetTaskRequest) (*tasksv1.GetTaskResponse, error) {
	return g.c.GetTask(ctx, r)
}
func (g grpcGoClient) ListTasks(ctx context.Context, r *tasksv1.ListTasksRequest) (*tasksv1.ListTasksResponse, error) {
	return g.c.ListTasks(ctx, r)
}
func (g grpcGoClient) UpdateTask(ctx context.Context, r *tasksv1.UpdateTaskRequest) (*tasksv1.UpdateTaskResponse, error) {
	return g.c.UpdateTask(ctx, r)
}
func (g grpcGoClient) DeleteTask(ctx context.Context, r *tasksv1.DeleteTaskRequest) (*tasksv1.DeleteTaskResponse, error) {
	return g.c.DeleteTask(ctx, r)
}
func (g grpcGoClient) ListTaskChanges(ctx context.Context, r *tasksv1.ListTaskChangesRequest) (*tasksv1.ListTaskChangesResponse, error) {
	return g.c.ListTaskChanges(ctx, r)
}
func (g grpcGoClient) WatchFirst(ctx context.Context, r *tasksv1.WatchTasksRequest) (*tasksv1.WatchTasksResponse, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := g.c.WatchTasks(ctx, r)
	if err != nil {
		return nil, err
	}
	return stream.Recv()
}

// rpcError is what a client learned from a failed call, whatever the
// protocol.
type rpcError struct {
	code       connect.Code
	message    string
	reason     string
	violations []validationcases.Violation // sorted
}

// inspect reads the code, message, ErrorInfo reason and violations of a
// connect-go or grpc-go error.
func inspect(tb testing.TB, err error) rpcError {
	tb.Helper()
	if err == nil {
		tb.Fatal("call succeeded, want an error")
	}
	var out rpcError
	var details []any
	var cerr *connect.Error
	if errors.As(err, &cerr) {
		out.code, out.message = cerr.Code(), cerr.Message()
		for _, d := range cerr.Details() {
			v, derr := d.Value()
			if derr != nil {
				tb.Fatalf("error detail %s: %v", d.Type(), derr)
			}
			details = append(details, v)
		}
	} else if st, ok := status.FromError(err); ok {
		out.code, out.message = connect.Code(st.Code()), st.Message()
		details = st.Details()
	} else {
		tb.Fatalf("not an RPC error: %T %v", err, err)
	}
	for _, d := range details {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.GetDomain() != "tasks.v1" {
				tb.Errorf("ErrorInfo domain %q, want tasks.v1", d.GetDomain())
			}
			out.reason = d.GetReason()
		case *validate.Violations:
			for _, v := range d.GetViolations() {
				out.violations = append(out.violations, validationcases.Violation{
					Field: protovalidate.FieldPathString(v.GetField()),
					Rule:  v.GetRuleId(),
				})
			}
		}
	}
	validationcases.Sort(out.violations)
	return out
}

// mustFail checks that err carries code and reason.
func mustFail(tb testing.TB, err error, code connect.Code, reason string) rpcError {
	tb.Helper()
	got := inspect(tb, err)
	if got.code != code || got.reason != reason {
		tb.Fatalf("got %v/%q (%q), want %v/%q", got.code, got.reason, got.message, code, reason)
	}
	return got
}
