package service

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
	"github.com/example/tasks/internal/tasksgrpc"
	"github.com/example/tasks/internal/validationcases"
)

// clientProtocol is one way a client reaches the server.
type clientProtocol struct {
	name string
	// json is set for the protojson codec, which cannot encode some
	// invalid requests (a Timestamp past year 9999), so a client using it
	// never sends them.
	json bool
	// grpcGo is set for grpc-go; the others are connect-go with opts.
	grpcGo bool
	opts   []connect.ClientOption
}

// clientProtocols are connect-go with each protocol and codec (GetTask and
// ListTasks go as HTTP GETs with connect-get), and grpc-go as another Go
// service would call.
var clientProtocols = []clientProtocol{
	{name: "connect"},
	{name: "connect-json", json: true, opts: []connect.ClientOption{connect.WithProtoJSON()}},
	{name: "connect-get", json: true, opts: []connect.ClientOption{connect.WithProtoJSON(), connect.WithHTTPGet()}},
	{name: "grpc-web", opts: []connect.ClientOption{connect.WithGRPCWeb()}},
	{name: "grpc", grpcGo: true},
}

// dial returns a client that calls s as user (without credentials when
// user is empty).
func (p clientProtocol) dial(tb testing.TB, s *apiServer, user string) taskClient {
	tb.Helper()
	if p.grpcGo {
		return dialGRPCGo(tb, s, user)
	}
	return dialConnect(tb, s, user, p.opts...)
}

// eachProtocol runs test once per client protocol, in parallel.
func eachProtocol(t *testing.T, test func(t *testing.T, p clientProtocol)) {
	t.Helper()
	for _, p := range clientProtocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			test(t, p)
		})
	}
}

// bearerFor returns a token for user, or "" for no user.
func bearerFor(tb testing.TB, user string) string {
	tb.Helper()
	if user == "" {
		return ""
	}
	return mustToken(tb, user, time.Now())
}

func dialConnect(tb testing.TB, s *apiServer, user string, opts ...connect.ClientOption) taskClient {
	tb.Helper()
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	tb.Cleanup(tr.CloseIdleConnections)
	opts = slices.Concat(opts, []connect.ClientOption{connect.WithInterceptors(exchangeInterceptor(bearerFor(tb, user)))})
	return tasksv1connect.NewTaskServiceClient(&http.Client{Transport: tr}, s.url, opts...)
}

func dialGRPCGo(tb testing.TB, s *apiServer, user string) taskClient {
	tb.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if token := bearerFor(tb, user); token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(grpcBearer(token)))
	}
	conn, err := grpc.NewClient("passthrough:///"+s.addr, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return grpcGoClient{tasksgrpc.NewTaskServiceClient(conn)}
}

type grpcBearer string

func (b grpcBearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (grpcBearer) RequireTransportSecurity() bool { return false }

// exchange is what a test sends beside one call's message and what comes
// back beside the answer (response headers and trailers, or an error's
// metadata), whichever client makes the call.
type exchange struct {
	send http.Header
	got  http.Header
}

type exchangeKey struct{}

// withExchange makes the calls made with ctx send x.send and fill x.got.
func withExchange(ctx context.Context, x *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, x)
}

// exchangeInterceptor sends the bearer token (when not empty) and fills
// in the exchange of connect-go calls.
func exchangeInterceptor(token string) connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			if token != "" {
				req.Header().Set("Authorization", "Bearer "+token)
			}
			x, _ := ctx.Value(exchangeKey{}).(*exchange)
			if x == nil {
				return next(ctx, req)
			}
			for k, vs := range x.send {
				req.Header()[k] = vs
			}
			resp, err := next(ctx, req)
			x.got = http.Header{}
			var cerr *connect.Error
			switch {
			case resp != nil:
				addHeaders(x.got, resp.Header(), resp.Trailer())
			case errors.As(err, &cerr):
				addHeaders(x.got, cerr.Meta())
			}
			return resp, err
		}
	}
}

func addHeaders(dst http.Header, srcs ...http.Header) {
	for _, src := range srcs {
		for k, vs := range src {
			for _, v := range vs {
				dst.Add(k, v)
			}
		}
	}
}

// taskClient is the unary part of the TaskService client, which every
// protocol's client offers alike (a grpc-go stream is not a connect-go one;
// watch_test.go calls WatchTasks).
type taskClient interface {
	CreateTask(context.Context, *tasksv1.CreateTaskRequest) (*tasksv1.CreateTaskResponse, error)
	GetTask(context.Context, *tasksv1.GetTaskRequest) (*tasksv1.GetTaskResponse, error)
	ListTasks(context.Context, *tasksv1.ListTasksRequest) (*tasksv1.ListTasksResponse, error)
	UpdateTask(context.Context, *tasksv1.UpdateTaskRequest) (*tasksv1.UpdateTaskResponse, error)
	DeleteTask(context.Context, *tasksv1.DeleteTaskRequest) (*tasksv1.DeleteTaskResponse, error)
	ListTaskChanges(context.Context, *tasksv1.ListTaskChangesRequest) (*tasksv1.ListTaskChangesResponse, error)
}

var _ taskClient = tasksv1connect.TaskServiceClient(nil)

// grpcGoClient is the grpc-go client behind the interface the connect-go
// client has.
type grpcGoClient struct{ c tasksgrpc.TaskServiceClient }

var _ taskClient = grpcGoClient{}

func (g grpcGoClient) ListTaskChanges(ctx context.Context, r *tasksv1.ListTaskChangesRequest) (*tasksv1.ListTaskChangesResponse, error) {
	return grpcCall(ctx, r, g.c.ListTaskChanges)
}

func (g grpcGoClient) CreateTask(ctx context.Context, r *tasksv1.CreateTaskRequest) (*tasksv1.CreateTaskResponse, error) {
	return grpcCall(ctx, r, g.c.CreateTask)
}

func (g grpcGoClient) GetTask(ctx context.Context, r *tasksv1.GetTaskRequest) (*tasksv1.GetTaskResponse, error) {
	return grpcCall(ctx, r, g.c.GetTask)
}

func (g grpcGoClient) ListTasks(ctx context.Context, r *tasksv1.ListTasksRequest) (*tasksv1.ListTasksResponse, error) {
	return grpcCall(ctx, r, g.c.ListTasks)
}

func (g grpcGoClient) UpdateTask(ctx context.Context, r *tasksv1.UpdateTaskRequest) (*tasksv1.UpdateTaskResponse, error) {
	return grpcCall(ctx, r, g.c.UpdateTask)
}

func (g grpcGoClient) DeleteTask(ctx context.Context, r *tasksv1.DeleteTaskRequest) (*tasksv1.DeleteTaskResponse, error) {
	return grpcCall(ctx, r, g.c.DeleteTask)
}

// grpcCall makes one grpc-go call, filling in the exchange in ctx.
func grpcCall[Req, Res any](ctx context.Context, req Req, call func(context.Context, Req, ...grpc.CallOption) (Res, error)) (Res, error) {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	if x == nil {
		return call(ctx, req)
	}
	for k, vs := range x.send {
		for _, v := range vs {
			ctx = metadata.AppendToOutgoingContext(ctx, k, v)
		}
	}
	var header, trailer metadata.MD
	res, err := call(ctx, req, grpc.Header(&header), grpc.Trailer(&trailer))
	x.got = http.Header{}
	for _, md := range []metadata.MD{header, trailer} {
		for k, vs := range md {
			for _, v := range vs {
				x.got.Add(k, v)
			}
		}
	}
	return res, err
}

// mustRPCError returns err as a *connect.Error, whichever client returned
// it: a grpc-go status becomes one with the same code, message and
// details, so one set of checks (ErrorReason among them) reads both.
func mustRPCError(tb testing.TB, err error) *connect.Error {
	tb.Helper()
	if err == nil {
		tb.Fatal("call succeeded, want an error")
	}
	var cerr *connect.Error
	if errors.As(err, &cerr) {
		return cerr
	}
	st, ok := status.FromError(err)
	if !ok {
		tb.Fatalf("not an RPC error: %T %v", err, err)
	}
	cerr = connect.NewError(connect.Code(st.Code()), errors.New(st.Message()))
	for _, d := range st.Proto().GetDetails() {
		detail, err := connect.NewErrorDetail(d)
		if err != nil {
			tb.Fatal(err)
		}
		cerr.AddDetail(detail)
	}
	return cerr
}

// mustFailWith checks that err has code and ErrorInfo reason, and returns
// it as a *connect.Error.
func mustFailWith(tb testing.TB, err error, code connect.Code, reason string) *connect.Error {
	tb.Helper()
	cerr := mustRPCError(tb, err)
	if cerr.Code() != code || ErrorReason(cerr) != reason {
		tb.Fatalf("got %v %q (%q), want %v %q", cerr.Code(), ErrorReason(cerr), cerr.Message(), code, reason)
	}
	return cerr
}

// fieldViolations returns the buf.validate.Violations in cerr as sorted
// field paths and rule ids.
func fieldViolations(tb testing.TB, cerr *connect.Error) []validationcases.Violation {
	tb.Helper()
	var out []validationcases.Violation
	for _, d := range cerr.Details() {
		v, err := d.Value()
		if err != nil {
			tb.Fatalf("error detail %s: %v", d.Type(), err)
		}
		if vs, ok := v.(*validate.Violations); ok {
			for _, v := range vs.GetViolations() {
				out = append(out, validationcases.Violation{
					Field: protovalidate.FieldPathString(v.GetField()),
					Rule:  v.GetRuleId(),
				})
			}
		}
	}
	validationcases.Sort(out)
	return out
}
