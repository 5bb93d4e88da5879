package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/example/tasks"
	"github.com/example/tasks/auth"
	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/apimessage"
	"github.com/example/tasks/internal/validationcases"
)

// FuzzRequestBody sends any bytes as the request message of a unary
// procedure (procedure picks it among fuzzProcedures), in one of the ways
// fuzzEncodings lists: JSON and binary protobuf, over Connect, gRPC and
// gRPC-Web, as POST or Connect GET. The server is the real handler stack
// (Authenticate, LimitInFlight, the interceptors, the handlers) over
// memStore, and the caller is signed in. Whatever the bytes, the answer must
// be a response the schema can read, or an error with a code a client can
// act on, never Internal or Unknown (a panic is recovered as Internal),
// whose message follows the contract (apimessage.Check) and which carries
// an ErrorInfo reason.
func FuzzRequestBody(f *testing.F) {
	store := newMemStore()
	srv := mustServe(f, store, serveOptions{quiet: true})
	procs := fuzzProcedures(f)
	encs := fuzzEncodings()
	clients := make([][]*connect.Client[rawMessage, rawMessage], len(procs))
	// A token for longer than any run: an expired one would turn every
	// call Unauthenticated.
	token, err := auth.MintHS256(testSecret, auth.TokenRequest{Subject: "alice", TTL: 10 * 365 * 24 * time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	for i, p := range procs {
		for _, e := range encs {
			clients[i] = append(clients[i], e.client(f, srv, p, token))
		}
	}
	mustAddRequestSeeds(f, procs, encs)
	// Bodies at the size limit and just over it, in the encodings that
	// send them as they are.
	for _, n := range []int{testMaxRequestBytes, testMaxRequestBytes + 1} {
		f.Add(uint8(0), uint8(1), append([]byte{0x12, 0xfc, 0xff, 0x03}, make([]byte, n-4)...))
		f.Add(uint8(0), uint8(0), []byte(`{"title":"`+strings.Repeat("x", n-12)+`"}`))
	}
	f.Fuzz(func(t *testing.T, procedure, encoding uint8, body []byte) {
		// Each input meets the same store, so a failure reproduces from
		// the input alone.
		store.forget()
		mustPutFuzzTask(t, store)
		p, e := int(procedure)%len(procs), int(encoding)%len(encs)
		resp, err := clients[p][e].CallUnary(context.Background(), connect.NewRequest(&rawMessage{body}))
		if err == nil {
			out := dynamicpb.NewMessage(procs[p].Output())
			if uerr := encs[e].unmarshal(resp.Msg.data, out); uerr != nil {
				t.Fatalf("%s %s: the response does not decode as %s: %v", procs[p].FullName(), encs[e].name, procs[p].Output().FullName(), uerr)
			}
			return
		}
		checkRequestError(t, procs[p], encs[e], body, err)
	})
}

// mustPutFuzzTask gives alice a task, so that lists have one to answer
// with.
func mustPutFuzzTask(t *testing.T, store *memStore) {
	t.Helper()
	due := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	_, err := store.CreateTask(context.Background(), "alice", tasks.NewTask{Title: "Buy milk", Tags: []string{"home"}, DueTime: &due})
	if err != nil {
		t.Fatal(err)
	}
}

// fuzzProcedures are the unary methods of tasks.v1.TaskService.
func fuzzProcedures(tb testing.TB) []protoreflect.MethodDescriptor {
	tb.Helper()
	svc := tasksv1.File_tasks_v1_tasks_proto.Services().ByName("TaskService")
	var out []protoreflect.MethodDescriptor
	for i := range svc.Methods().Len() {
		if m := svc.Methods().Get(i); !m.IsStreamingClient() && !m.IsStreamingServer() {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		tb.Fatal("TaskService has no unary methods")
	}
	return out
}

// fuzzEncoding is a protocol and codec a client may call with.
type fuzzEncoding struct {
	name string
	json bool
	get  bool // Connect GET, for the methods without side effects
	opts []connect.ClientOption
}

func fuzzEncodings() []fuzzEncoding {
	return []fuzzEncoding{
		{name: "connect+json", json: true},
		{name: "connect+proto"},
		{name: "grpc+proto", opts: []connect.ClientOption{connect.WithGRPC()}},
		{name: "grpc-web+proto", opts: []connect.ClientOption{connect.WithGRPCWeb()}},
		{name: "grpc+json", json: true, opts: []connect.ClientOption{connect.WithGRPC()}},
		{name: "connect-get+json", json: true, get: true, opts: []connect.ClientOption{connect.WithHTTPGet()}},
		{name: "connect-get+proto", get: true, opts: []connect.ClientOption{connect.WithHTTPGet()}},
		{name: "connect+proto+gzip", opts: []connect.ClientOption{connect.WithSendGzip()}},
	}
}

// client returns a client of procedure p that sends its message's bytes
// as they are, in encoding e, as alice.
func (e fuzzEncoding) client(tb testing.TB, s *apiServer, p protoreflect.MethodDescriptor, token string) *connect.Client[rawMessage, rawMessage] {
	tb.Helper()
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	tb.Cleanup(tr.CloseIdleConnections)
	opts := slices.Concat(e.opts, []connect.ClientOption{
		connect.WithCodec(bytesCodec{json: e.json}),
		connect.WithInterceptors(exchangeInterceptor(token)),
	})
	if idem := p.Options().(*descriptorpb.MethodOptions).GetIdempotencyLevel(); e.get && idem == descriptorpb.MethodOptions_NO_SIDE_EFFECTS {
		opts = append(opts, connect.WithIdempotency(connect.IdempotencyNoSideEffects))
	}
	url := s.url + "/" + string(p.Parent().FullName()) + "/" + string(p.Name())
	return connect.NewClient[rawMessage, rawMessage](&http.Client{Transport: tr}, url, opts...)
}

func (e fuzzEncoding) unmarshal(b []byte, m proto.Message) error {
	if e.json {
		return protojson.Unmarshal(b, m)
	}
	return proto.Unmarshal(b, m)
}

func (e fuzzEncoding) marshal(tb testing.TB, m proto.Message) []byte {
	tb.Helper()
	marshal := proto.Marshal
	if e.json {
		marshal = protojson.Marshal
	}
	b, err := marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// rawMessage is a message's encoded bytes; bytesCodec sends and receives
// them untouched, so the fuzzer's bytes reach the server as they are.
// (connect-go also reads gRPC error details with the codec named "proto":
// those are real messages, and it decodes them as such.)
type rawMessage struct{ data []byte }

type bytesCodec struct{ json bool }

func (c bytesCodec) Name() string {
	if c.json {
		return "json"
	}
	return "proto"
}

func (bytesCodec) Marshal(m any) ([]byte, error) {
	if raw, ok := m.(*rawMessage); ok {
		return raw.data, nil
	}
	return proto.Marshal(m.(proto.Message))
}

// MarshalStable and IsBinary make it a codec Connect GET can use.
func (c bytesCodec) MarshalStable(m any) ([]byte, error) { return c.Marshal(m) }
func (c bytesCodec) IsBinary() bool                      { return !c.json }

func (bytesCodec) Unmarshal(b []byte, m any) error {
	if raw, ok := m.(*rawMessage); ok {
		raw.data = slices.Clone(b)
		return nil
	}
	return proto.Unmarshal(b, m.(proto.Message))
}

// clientCodes are the codes a request can earn on its own; anything else
// (Internal, Unknown, Unavailable with nothing overloaded) is the server's
// fault.
var clientCodes = []connect.Code{
	connect.CodeInvalidArgument, connect.CodeNotFound, connect.CodeAborted,
	connect.CodeFailedPrecondition, connect.CodeResourceExhausted,
}

// checkRequestError checks the error a call with body got.
func checkRequestError(t *testing.T, p protoreflect.MethodDescriptor, e fuzzEncoding, body []byte, err error) {
	t.Helper()
	call := string(p.Name()) + " " + e.name
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("%s: not a Connect error: %v", call, err)
	}
	var problem error
	switch {
	case !slices.Contains(clientCodes, cerr.Code()):
		problem = fmt.Errorf("code %v, want one of %v", cerr.Code(), clientCodes)
	case ErrorReason(cerr) == "" && !(cerr.Code() == connect.CodeResourceExhausted && tooLarge.MatchString(cerr.Message())):
		problem = errors.New("no ErrorInfo reason")
	default:
		problem = apimessage.Check(cerr.Message(), body)
	}
	if problem == nil {
		return
	}
	t.Fatalf("%s: %v (message %.200q)", call, problem, cerr.Message())
}

// tooLarge is connect-go's refusal of a body over the size limit: the one
// error API.md gives a code (ResourceExhausted) but no reason.
var tooLarge = regexp.MustCompile(`^message size \d+ is larger than configured max \d+$`)

// mustAddRequestSeeds adds every request of the validation table in every
// encoding, for the procedure that takes it.
func mustAddRequestSeeds(f *testing.F, procs []protoreflect.MethodDescriptor, encs []fuzzEncoding) {
	f.Helper()
	cases, err := validationcases.Load()
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		i := slices.IndexFunc(procs, func(p protoreflect.MethodDescriptor) bool { return p.Input().FullName() == c.Type })
		if i < 0 {
			continue // a streaming method's request
		}
		for j, e := range encs {
			f.Add(uint8(i), uint8(j), e.marshal(f, c.Message))
		}
	}
}
