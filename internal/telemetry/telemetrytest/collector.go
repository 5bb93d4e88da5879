package telemetrytest

import (
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Collector is an OTLP trace receiver that keeps the spans it is sent.
type Collector struct {
	coltracepb.UnimplementedTraceServiceServer
	// URL is what OTEL_EXPORTER_OTLP_ENDPOINT should say to reach it.
	URL string

	mu    sync.Mutex
	spans []Span
}

// Span is one span a Collector received.
type Span struct {
	Name                   string
	TraceID, SpanID        string // hex
	ParentSpanID           string // hex; empty for a root
	Service                string // its resource's service.name
	Attributes             map[string]string
	ServerKind, ClientKind bool
}

// Spans returns the spans received so far.
func (c *Collector) Spans() []Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Span(nil), c.spans...)
}

func (c *Collector) keep(r *coltracepb.ExportTraceServiceRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range r.GetResourceSpans() {
		var service string
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				attrs := make(map[string]string)
				for _, a := range sp.GetAttributes() {
					attrs[a.GetKey()] = a.GetValue().GetStringValue()
				}
				c.spans = append(c.spans, Span{
					Name:         sp.GetName(),
					TraceID:      hex.EncodeToString(sp.GetTraceId()),
					SpanID:       hex.EncodeToString(sp.GetSpanId()),
					ParentSpanID: hex.EncodeToString(sp.GetParentSpanId()),
					Service:      service,
					Attributes:   attrs,
					ServerKind:   sp.GetKind().String() == "SPAN_KIND_SERVER",
					ClientKind:   sp.GetKind().String() == "SPAN_KIND_CLIENT",
				})
			}
		}
	}
}

// HTTPCollector receives OTLP over HTTP, protobuf bodies at /v1/traces,
// until the test ends.
func HTTPCollector(tb testing.TB) *Collector {
	tb.Helper()
	c := &Collector{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		req := &coltracepb.ExportTraceServiceRequest{}
		if err != nil || r.URL.Path != "/v1/traces" || proto.Unmarshal(body, req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		c.keep(req)
		resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(resp)
	}))
	tb.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

// GRPCCollector receives OTLP over gRPC until the test ends.
func GRPCCollector(tb testing.TB) *Collector {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	c := &Collector{URL: "http://" + ln.Addr().String()}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, c)
	go srv.Serve(ln)
	tb.Cleanup(srv.Stop)
	return c
}

// Export implements the OTLP gRPC trace service.
func (c *Collector) Export(_ context.Context, r *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.keep(r)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}
