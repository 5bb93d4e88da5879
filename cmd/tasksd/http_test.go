package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/reflect/protoreflect"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
	"github.com/example/tasks/service"
)

// TestPublicEndpoints: reflection, health and the HTTP probes need no token.
func TestPublicEndpoints(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, nil)
	ctx := context.Background()

	for _, opt := range []connect.ClientOption{connect.WithGRPC(), connect.WithGRPCWeb()} {
		stream := grpcreflect.NewClient(h2cClient(), s.baseURL, opt).NewStream(ctx)
		names, err := stream.ListServices()
		stream.Close()
		if err != nil {
			t.Fatalf("ListServices: %v", err)
		}
		if !slices.Contains(names, protoreflect.FullName(tasksv1connect.TaskServiceName)) {
			t.Errorf("reflection lists %v, want %s", names, tasksv1connect.TaskServiceName)
		}
	}
	// grpcurl and older tools speak v1alpha, newer ones v1: both answer.
	conn, err := grpc.NewClient(s.hostPort(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	v1, err := reflectionv1.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := v1.Send(&reflectionv1.ServerReflectionRequest{MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	if resp, err := v1.Recv(); err != nil || len(resp.GetListServicesResponse().GetService()) == 0 {
		t.Errorf("reflection v1: %v, %v", resp, err)
	}
	v1alpha, err := reflectionv1alpha.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := v1alpha.Send(&reflectionv1alpha.ServerReflectionRequest{MessageRequest: &reflectionv1alpha.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	if resp, err := v1alpha.Recv(); err != nil || len(resp.GetListServicesResponse().GetService()) == 0 {
		t.Errorf("reflection v1alpha: %v, %v", resp, err)
	}

	health := grpchealth.NewClient(h2cClient(), s.baseURL, connect.WithGRPC())
	for _, service := range []string{"", tasksv1connect.TaskServiceName} {
		resp, err := health.Check(ctx, &grpchealth.CheckRequest{Service: service})
		if err != nil || resp.Status != grpchealth.StatusServing {
			t.Errorf("health of %q: %v, %v", service, resp, err)
		}
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(s.baseURL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
	}
}

// TestCORS: a browser on an allowed origin may send Connect and gRPC-Web
// calls with a bearer token; other origins get no CORS headers.
func TestCORS(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, nil)
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, s.baseURL+tasksv1connect.TaskServiceCreateTaskProcedure, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,connect-protocol-version,content-type,x-grpc-web") // sorted, as browsers send them
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := preflight("https://app.example.com")
	if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("allowed origin: %s %v", resp.Status, resp.Header)
	}
	allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
	for _, h := range []string{"authorization", "content-type", "connect-protocol-version", "x-grpc-web"} {
		if !strings.Contains(allowed, h) {
			t.Errorf("preflight does not allow %s: %q", h, allowed)
		}
	}
	if resp := preflight("https://evil.example.com"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin allowed: %v", resp.Header)
	}

	// The actual call exposes the headers connect-es reads.
	req, _ := http.NewRequest(http.MethodPost, s.baseURL+tasksv1connect.TaskServiceListTasksProcedure, strings.NewReader("{}"))
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.mustToken(t, "cors-user"))
	call, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	call.Body.Close()
	exposed := strings.ToLower(call.Header.Get("Access-Control-Expose-Headers"))
	if call.StatusCode != http.StatusOK || !strings.Contains(exposed, "grpc-status-details-bin") {
		t.Errorf("call: %s, exposed %q", call.Status, exposed)
	}
}

// TestCORSDefault: with CORS_ALLOWED_ORIGINS unset no origin may call the
// API from a browser (no CORS headers at all, preflight or call); every
// origin may only when it says "*".
func TestCORSDefault(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, origins, want string // want: Access-Control-Allow-Origin
	}{
		{"unset", "", ""},
		{"every origin, said explicitly", "*", "*"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustStartServer(t, map[string]string{"CORS_ALLOWED_ORIGINS": tt.origins})
			pre, _ := http.NewRequest(http.MethodOptions, s.baseURL+tasksv1connect.TaskServiceListTasksProcedure, nil)
			pre.Header.Set("Origin", "https://anywhere.example.com")
			pre.Header.Set("Access-Control-Request-Method", "POST")
			pre.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
			call, _ := http.NewRequest(http.MethodPost, s.baseURL+tasksv1connect.TaskServiceListTasksProcedure, strings.NewReader("{}"))
			call.Header.Set("Origin", "https://anywhere.example.com")
			call.Header.Set("Content-Type", "application/json")
			call.Header.Set("Authorization", "Bearer "+s.mustToken(t, "cors-default"))
			for _, req := range []*http.Request{pre, call} {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tt.want {
					t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", req.Method, got, tt.want)
				}
				if tt.want == "" {
					for name := range resp.Header {
						if strings.HasPrefix(name, "Access-Control-") {
							t.Errorf("%s: %s: %q", req.Method, name, resp.Header.Get(name))
						}
					}
				}
			}
		})
	}
}

// TestRequestLimit: a request over MAX_REQUEST_BYTES is ResourceExhausted,
// over every protocol, and the server keeps serving.
func TestRequestLimit(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, map[string]string{"MAX_REQUEST_BYTES": "65536"})
	huge := &tasksv1.CreateTaskRequest{Title: "big", Description: strings.Repeat("x", 70_000)}
	for _, p := range protocols {
		if p.name == "connect-get" {
			continue // CreateTask is not sent as GET
		}
		c := p.dial(t, s, s.mustToken(t, "limit-"+p.name))
		_, err := c.CreateTask(context.Background(), huge)
		if got := inspect(t, err); got.code != connect.CodeResourceExhausted {
			t.Errorf("%s: got %v %q, want resource_exhausted", p.name, got.code, got.message)
		}
		if _, err := c.CreateTask(context.Background(), &tasksv1.CreateTaskRequest{Title: "small"}); err != nil {
			t.Errorf("%s: after an oversized request: %v", p.name, err)
		}
	}

	// A raw body larger than the limit is refused without being decoded,
	// even when it is not a valid message at all.
	req, _ := http.NewRequest(http.MethodPost, s.baseURL+tasksv1connect.TaskServiceCreateTaskProcedure, bytes.NewReader(bytes.Repeat([]byte{0xff}, 1<<20)))
	req.Header.Set("Content-Type", "application/proto")
	req.Header.Set("Authorization", "Bearer "+s.mustToken(t, "raw"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "resource_exhausted") {
		t.Errorf("raw oversized body: %s %s", resp.Status, body)
	}
}

// TestGzipResponses: large responses are compressed for clients that ask.
func TestGzipResponses(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, nil)
	token := s.mustToken(t, "gzip-user")
	c := tasksv1connect.NewTaskServiceClient(h2cClient(), s.baseURL, connect.WithInterceptors(bearer(token)))
	for range 20 {
		if _, err := c.CreateTask(context.Background(), &tasksv1.CreateTaskRequest{Title: "task", Description: strings.Repeat("long text ", 50)}); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, s.baseURL+tasksv1connect.TaskServiceListTasksProcedure, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+token)
	tr := &http.Transport{DisableCompression: true}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("ListTasks: %s, Content-Encoding %q", resp.Status, resp.Header.Get("Content-Encoding"))
	}
}

// TestUnauthenticatedBodyNotRead: without a token the call is refused
// before the body is read, so a slow or huge upload costs nothing.
func TestUnauthenticatedBodyNotRead(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, nil)
	body := &countingReader{remaining: 256 << 20}
	req, _ := http.NewRequest(http.MethodPost, s.baseURL+tasksv1connect.TaskServiceCreateTaskProcedure, body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(data), "unauthenticated") {
		t.Errorf("got %s %s", resp.Status, data)
	}
	if body.read.Load() >= 256<<20 {
		t.Errorf("the whole body was sent: the server read it")
	}
}

// countingReader is a large request body that counts what was taken from
// it.
type countingReader struct {
	remaining int64
	read      atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n := int64(len(p))
	if left := r.remaining - r.read.Load(); n > left {
		n = left
	}
	if n == 0 {
		return 0, io.EOF
	}
	clear(p[:n])
	r.read.Add(n)
	return int(n), nil
}

// TestRefusedCallRequestID: a call refused before it is served (here for
// want of a token) still answers the client's request id, or one of its
// own, for the client to quote.
func TestRefusedCallRequestID(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, nil)
	for _, sent := range []string{"refused-1", ""} {
		req, err := http.NewRequest(http.MethodPost, s.baseURL+tasksv1connect.TaskServiceGetTaskProcedure, strings.NewReader(`{"id":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if sent != "" {
			req.Header.Set(service.RequestIDHeader, sent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got := resp.Header.Get(service.RequestIDHeader)
		if resp.StatusCode != http.StatusUnauthorized || got == "" || (sent != "" && got != sent) {
			t.Errorf("sent id %q: %d with id %q, want 401 with the id", sent, resp.StatusCode, got)
		}
	}
}
