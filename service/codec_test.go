package service

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// rawCodec sends body as every request message, whatever the call's
// message: what a client that is not connect-go (a browser, curl) may send.
// Responses are decoded as the codec's encoding.
type rawCodec struct {
	name string // "json" or "proto"
	body []byte
}

func (c rawCodec) Name() string                      { return c.name }
func (c rawCodec) Marshal(any) ([]byte, error)       { return c.body, nil }
func (c rawCodec) MarshalStable(any) ([]byte, error) { return c.body, nil }
func (c rawCodec) IsBinary() bool                    { return c.name == "proto" }

func (c rawCodec) Unmarshal(data []byte, msg any) error {
	if c.name == "proto" {
		return proto.Unmarshal(data, msg.(proto.Message))
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(data, msg.(proto.Message))
}

// rawTransports are the ways a JSON or binary body reaches the server:
// Connect (POST and GET), gRPC-Web and gRPC, each carrying the codec's
// encoding (application/json, application/grpc-web+json, ...).
var rawTransports = []struct {
	name string
	opts []connect.ClientOption
}{
	{"connect", nil},
	{"connect-get", []connect.ClientOption{connect.WithHTTPGet()}},
	{"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}},
	{"grpc", []connect.ClientOption{connect.WithGRPC()}},
}

// TestJSONEnumNames: in JSON, a name that is not a value of its enum is
// InvalidArgument, wherever it is and whatever comes before it, while
// unknown fields are ignored; over every protocol that carries JSON.
func TestJSONEnumNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		call func(context.Context, taskClient) error // GetTask-shaped calls go as GET too
		want string                                  // "" for success, else what the message must hold
	}{
		{
			name: "unknown priority",
			body: `{"title": "x", "priority": "PRIORITY_NOPE"}`,
			call: create, want: `priority: "PRIORITY_NOPE"`,
		},
		{
			name: "unknown priority after an unknown field",
			body: `{"title": "x", "fromTheFuture": {"a": [1, "PRIORITY_NOPE"]}, "priority": "PRIORITY_HGIH"}`,
			call: create, want: `priority: "PRIORITY_HGIH"`,
		},
		{
			name: "unknown order, by its proto name",
			body: `{"order_by": "TASK_ORDER_SIDEWAYS", "surplus": true}`,
			call: list, want: `orderBy: "TASK_ORDER_SIDEWAYS"`,
		},
		{
			name: "unknown priority in an update",
			body: `{"id": "01936d5e-8f5a-7b3c-9d2e-4f1a2b3c4d5e", "priority": "high"}`,
			call: update, want: `priority: "high"`,
		},
		{
			name: "a long unknown name is not echoed whole",
			body: `{"title": "x", "priority": "` + strings.Repeat("P", 10_000) + `"}`,
			call: create, want: `priority: "PPPP`,
		},
		{
			name: "unknown fields only",
			body: `{"title": "x", "priority": "PRIORITY_HIGH", "nope": 1, "deeper": {"priority": "NOPE"}}`,
			call: create,
		},
		{
			name: "a priority by number",
			body: `{"title": "x", "priority": 2}`,
			call: create,
		},
		{
			name: "every enum name known",
			body: `{"priority": "PRIORITY_LOW", "orderBy": "TASK_ORDER_TITLE_ASC", "dueBefore": "2030-01-01T00:00:00Z", "x": null}`,
			call: list,
		},
	}
	for _, tr := range rawTransports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			srv := mustServe(t, newMemStore(), serveOptions{})
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					c := dialConnect(t, srv, "alice", append([]connect.ClientOption{connect.WithCodec(rawCodec{"json", []byte(tt.body)})}, tr.opts...)...)
					err := tt.call(context.Background(), c)
					if tt.want == "" {
						if err != nil {
							t.Fatal(err)
						}
						return
					}
					cerr := mustRPCError(t, err)
					if cerr.Code() != connect.CodeInvalidArgument || !strings.Contains(cerr.Message(), tt.want) {
						t.Fatalf("got %v %q, want InvalidArgument naming %s", cerr.Code(), cerr.Message(), tt.want)
					}
					mustBeShort(t, cerr.Message())
				})
			}
		})
	}
}

func create(ctx context.Context, c taskClient) error {
	_, err := c.CreateTask(ctx, &tasksv1.CreateTaskRequest{})
	return err
}

func list(ctx context.Context, c taskClient) error {
	_, err := c.ListTasks(ctx, &tasksv1.ListTasksRequest{})
	return err
}

func update(ctx context.Context, c taskClient) error {
	_, err := c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{})
	return err
}

// mustBeShort fails when an error message echoes more than a few dozen
// characters of input or names a Go type.
func mustBeShort(tb testing.TB, msg string) {
	tb.Helper()
	if len([]rune(msg)) > 140 || strings.Contains(msg, "*") || strings.Contains(msg, "tasksv1") {
		tb.Errorf("message of %d characters: %.200q", len([]rune(msg)), msg)
	}
}

// TestDecodeErrorsShort: a request that cannot be decoded is
// InvalidArgument with reason INVALID_REQUEST and a short message that
// names no Go type, however large the input and in whichever encoding;
// WatchTasks (a stream) too.
func TestDecodeErrorsShort(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("9", 50_000) // under the test server's MaxRequestBytes
	tests := []struct {
		name     string
		codec    rawCodec
		anyWhere bool // no message decodes it, so WatchTasks refuses it too
	}{
		{"a 50 KB number", rawCodec{"json", []byte(`{"pageSize": ` + huge + `}`)}, false},
		{"a 50 KB string for a number", rawCodec{"json", []byte(`{"pageSize": "` + huge + `"}`)}, false},
		{"a 50 KB field name, then junk", rawCodec{"json", []byte(`{"` + huge + `": 1, "pageSize": tru}`)}, true},
		{"a control character", rawCodec{"json", []byte("{\"pageSize\": \x01}")}, true},
		{"not JSON", rawCodec{"json", []byte("\xff\xfe")}, true},
		{"not protobuf", rawCodec{"proto", []byte("\xff\xff\xff\xff")}, true},
		{"not UTF-8 in protobuf", rawCodec{"proto", []byte("\x2a\x02\xff\xfe")}, false}, // query = "\xff\xfe"
	}
	srv := mustServe(t, newMemStore(), serveOptions{})
	for _, tr := range rawTransports {
		for _, tt := range tests {
			t.Run(tr.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				if tr.name == "connect-get" && len(tt.codec.body) > 1000 {
					t.Skip("a URL that long is refused before it is read")
				}
				c := dialConnect(t, srv, "alice", append([]connect.ClientOption{connect.WithCodec(tt.codec)}, tr.opts...)...)
				check := func(err error) {
					t.Helper()
					cerr := mustRPCError(t, err)
					if cerr.Code() != connect.CodeInvalidArgument || ErrorReason(cerr) != ReasonInvalid {
						t.Fatalf("got %v %q %.200q, want InvalidArgument %s", cerr.Code(), ErrorReason(cerr), cerr.Message(), ReasonInvalid)
					}
					mustBeShort(t, cerr.Message())
				}
				check(list(context.Background(), c))
				if tr.name == "connect-get" || !tt.anyWhere {
					return // a stream is never a GET
				}
				w := dialWatcher(t, srv, bearerFor(t, "alice"), append([]connect.ClientOption{connect.WithCodec(tt.codec)}, tr.opts...)...)
				stream, err := w.WatchTasks(context.Background(), &tasksv1.WatchTasksRequest{})
				if err != nil {
					t.Fatal(err)
				}
				defer stream.Close()
				if stream.Receive() {
					t.Fatalf("the watch sent %v", stream.Msg())
				}
				check(stream.Err())
			})
		}
	}
}

// TestDecodeMarkNotForgeable: a request carrying, as an unknown field, what
// the codecs mark an undecodable request with (but not the server's key)
// is served as any request with unknown fields is.
func TestDecodeMarkNotForgeable(t *testing.T) {
	t.Parallel()
	body, err := proto.Marshal(&tasksv1.CreateTaskRequest{Title: "forged"})
	if err != nil {
		t.Fatal(err)
	}
	body = protowire.AppendTag(body, markField, protowire.BytesType)
	body = protowire.AppendBytes(body, []byte("0123456789abcdefa made-up refusal"))
	srv := mustServe(t, newMemStore(), serveOptions{})
	c := dialConnect(t, srv, "alice", connect.WithCodec(rawCodec{"proto", body}))
	resp, err := c.CreateTask(context.Background(), &tasksv1.CreateTaskRequest{})
	if err != nil {
		t.Fatalf("a request with a forged mark: %v", err)
	}
	if resp.GetTask().GetTitle() != "forged" {
		t.Fatalf("created %v", resp.GetTask())
	}
}

// TestGetBadBase64: a Connect GET whose message is not the base64 it says
// it is is InvalidArgument (INVALID_REQUEST), not a server error; good
// base64, padded or not, is read.
func TestGetBadBase64(t *testing.T) {
	t.Parallel()
	srv := mustServe(t, newMemStore(), serveOptions{})
	c := dialConnect(t, srv, "alice")
	task := mustCreateTask(t, c, &tasksv1.CreateTaskRequest{Title: "x"})
	msg, err := proto.Marshal(&tasksv1.GetTaskRequest{Id: task.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	get := func(query url.Values) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.url+"/tasks.v1.TaskService/GetTask?"+query.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+bearerFor(t, "alice"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any // errors, and JSON answers
		if resp.Header.Get("Content-Type") == "application/json" {
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, body
	}
	for _, m := range []string{"!!!!", "AAAA=", "A", strings.Repeat("*", 2000)} {
		status, body := get(url.Values{"encoding": {"proto"}, "base64": {"1"}, "message": {m}})
		if status != http.StatusBadRequest || body["code"] != "invalid_argument" || !strings.Contains(string(mustJSON(t, body)), ReasonInvalid) {
			t.Errorf("message %.20q: %d %v, want 400 invalid_argument %s", m, status, body, ReasonInvalid)
		}
	}
	// Good base64, bad protobuf: the codec's InvalidArgument.
	if status, body := get(url.Values{"encoding": {"proto"}, "base64": {"1"}, "message": {"_w"}}); status != http.StatusBadRequest || body["code"] != "invalid_argument" {
		t.Errorf("not protobuf: %d %v, want 400 invalid_argument", status, body)
	}
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding} {
		status, body := get(url.Values{"encoding": {"proto"}, "base64": {"1"}, "message": {enc.EncodeToString(msg)}})
		if status != http.StatusOK {
			t.Errorf("good base64: %d %v", status, body)
		}
	}
	status, body := get(url.Values{"encoding": {"json"}, "base64": {"1"}, "message": {base64.RawURLEncoding.EncodeToString([]byte(`{"id": "` + task.GetId() + `"}`))}})
	if status != http.StatusOK {
		t.Errorf("JSON in base64: %d %v", status, body)
	}
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
