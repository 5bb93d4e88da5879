package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
)

// protocols are the wire protocols a run can speak, all through connect-go's
// generated client: one code path for the four, so differences in the
// numbers are the server's (and the encoding's), not two client libraries'.
var protocols = []string{"connect-json", "connect-proto", "grpc", "grpc-web"}

func protocolOptions(name string) ([]connect.ClientOption, error) {
	switch name {
	case "connect-json":
		return []connect.ClientOption{connect.WithProtoJSON()}, nil
	case "connect-proto":
		return nil, nil
	case "grpc":
		return []connect.ClientOption{connect.WithGRPC()}, nil
	case "grpc-web":
		return []connect.ClientOption{connect.WithGRPCWeb()}, nil
	}
	return nil, fmt.Errorf("unknown protocol %q (want one of %v)", name, protocols)
}

type tokenKey struct{}

// withToken makes calls made with ctx carry token as their bearer token.
func withToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, tokenKey{}, token)
}

// bearer sets the Authorization header from the call's context, on unary
// calls and on streams (WatchTasks).
type bearer struct{}

func setBearer(ctx context.Context, h http.Header) {
	if tok, ok := ctx.Value(tokenKey{}).(string); ok {
		h.Set("Authorization", "Bearer "+tok)
	}
}

func (bearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		setBearer(ctx, req.Header())
		return next(ctx, req)
	}
}

func (bearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		setBearer(ctx, conn.RequestHeader())
		return conn
	}
}

func (bearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// pool is a fixed number of connections to the server, each its own
// transport so that each is its own TCP connection (HTTP/2 would otherwise
// multiplex every call onto one). Calls pick a connection round-robin.
type pool struct {
	clients []tasksv1connect.TaskServiceClient
	next    atomic.Uint64
	close   func()
}

// newPool dials lazily: n connections to baseURL speaking protocol, over
// unencrypted HTTP/2 (prior knowledge, as h2load and gRPC clients do), or
// HTTP/1.1 when http1 is set (not for gRPC, which needs HTTP/2).
func newPool(baseURL, protocol string, n int, http1 bool) (*pool, error) {
	opts, err := protocolOptions(protocol)
	if err != nil {
		return nil, err
	}
	if http1 && protocol == "grpc" {
		return nil, fmt.Errorf("grpc needs HTTP/2")
	}
	opts = append(opts, connect.WithInterceptors(bearer{}))
	p := &pool{}
	var transports []*http.Transport
	for range n {
		t := &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 1,
			MaxConnsPerHost:     1,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		}
		t.Protocols = new(http.Protocols)
		if http1 {
			t.Protocols.SetHTTP1(true)
		} else {
			t.Protocols.SetUnencryptedHTTP2(true)
		}
		transports = append(transports, t)
		p.clients = append(p.clients, tasksv1connect.NewTaskServiceClient(&http.Client{Transport: t}, baseURL, opts...))
	}
	p.close = func() {
		for _, t := range transports {
			t.CloseIdleConnections()
		}
	}
	return p, nil
}

// client returns the i-th connection's client.
func (p *pool) client(i int) tasksv1connect.TaskServiceClient { return p.clients[i%len(p.clients)] }

// any returns the next connection's client, round-robin.
func (p *pool) any() tasksv1connect.TaskServiceClient {
	return p.clients[(p.next.Add(1)-1)%uint64(len(p.clients))]
}
