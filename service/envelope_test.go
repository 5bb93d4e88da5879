package service

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"connectrpc.com/connect"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
)

// rewriting changes each request body the client sends.
type rewriting struct {
	base http.RoundTripper
	edit func([]byte) []byte
}

func (rw rewriting) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		b = rw.edit(b)
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	}
	return rw.base.RoundTrip(r)
}

// TestEnvelopeErrors: a body whose envelopes are broken (cut short, or a
// message flagged compressed with no compression named) is InvalidArgument
// INVALID_REQUEST, not the server's Internal, over gRPC and gRPC-Web
// (unary) and Connect's streaming protocol (WatchTasks).
func TestEnvelopeErrors(t *testing.T) {
	t.Parallel()
	srv := mustServe(t, newMemStore(), serveOptions{})
	edits := map[string]func([]byte) []byte{
		"cut short":            func(b []byte) []byte { return b[:len(b)-1] },
		"cut inside the frame": func(b []byte) []byte { return b[:3] },
		"flagged compressed":   func(b []byte) []byte { b[0] |= 1; return b },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dial := func(opts ...connect.ClientOption) tasksv1connect.TaskServiceClient {
				tr := &http.Transport{Protocols: new(http.Protocols)}
				tr.Protocols.SetUnencryptedHTTP2(true)
				t.Cleanup(tr.CloseIdleConnections)
				opts = append(opts, connect.WithInterceptors(streamBearer(bearerFor(t, "alice"))))
				return tasksv1connect.NewTaskServiceClient(&http.Client{Transport: rewriting{tr, edit}}, srv.url, opts...)
			}
			check := func(what string, err error) {
				t.Helper()
				cerr := mustRPCError(t, err)
				if cerr.Code() != connect.CodeInvalidArgument || ErrorReason(cerr) != ReasonInvalid {
					t.Errorf("%s: got %v %q %q, want InvalidArgument %s", what, cerr.Code(), ErrorReason(cerr), cerr.Message(), ReasonInvalid)
				}
			}
			req := &tasksv1.ListTasksRequest{PageSize: 5}
			for _, p := range []struct {
				name string
				opt  connect.ClientOption
			}{{"grpc", connect.WithGRPC()}, {"grpc-web", connect.WithGRPCWeb()}} {
				_, err := dial(p.opt).ListTasks(context.Background(), req)
				check(p.name, err)
			}
			stream, err := dial().WatchTasks(context.Background(), &tasksv1.WatchTasksRequest{})
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			if stream.Receive() {
				t.Fatalf("the watch sent %v", stream.Msg())
			}
			check("connect stream", stream.Err())
		})
	}
}
