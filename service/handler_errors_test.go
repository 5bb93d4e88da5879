package service

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/example/tasks"
	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/validationcases"
)

// What each kind of failure looks like to a client of each protocol.

// pastYear9999 is a Timestamp a protobuf Timestamp may not hold: the first
// second of year 10000.
var pastYear9999 = &timestamppb.Timestamp{Seconds: 253402300800}

// TestRequestErrors checks requests the server refuses: by the schema
// (VALIDATION_ERROR), by the domain's rules (INVALID_REQUEST, with a
// violation for the field the rule names, at its path in the request),
// and by size.
func TestRequestErrors(t *testing.T) {
	t.Parallel()
	type call func(ctx context.Context, c taskClient, id string) error
	tests := []struct {
		name       string
		call       call
		code       connect.Code
		reason     string
		message    string // when not empty, the message the client must get
		violations []validationcases.Violation
		binaryOnly bool // protojson cannot encode the request
	}{
		{
			name: "empty update",
			call: func(ctx context.Context, c taskClient, id string) error {
				_, err := c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: id})
				return err
			},
			code: connect.CodeInvalidArgument, reason: ReasonInvalid, message: "the update changes nothing",
		},
		{
			name: "schema violations",
			call: func(ctx context.Context, c taskClient, _ string) error {
				_, err := c.CreateTask(ctx, &tasksv1.CreateTaskRequest{Tags: []string{"ok", "no spaces"}})
				return err
			},
			code: connect.CodeInvalidArgument, reason: ReasonValidation,
			violations: []validationcases.Violation{{Field: "tags[1]", Rule: "string.pattern"}, {Field: "title", Rule: "required"}},
		},
		{
			name: "due_time with clear_due_time",
			call: func(ctx context.Context, c taskClient, id string) error {
				_, err := c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: id, DueTime: timestamppb.Now(), ClearDueTime: true})
				return err
			},
			code: connect.CodeInvalidArgument, reason: ReasonValidation,
			violations: []validationcases.Violation{{Field: "", Rule: "message.oneof"}},
		},
		{
			name: "negative page size",
			call: func(ctx context.Context, c taskClient, _ string) error {
				_, err := c.ListTasks(ctx, &tasksv1.ListTasksRequest{PageSize: -1})
				return err
			},
			code: connect.CodeInvalidArgument, reason: ReasonValidation,
			violations: []validationcases.Violation{{Field: "page_size", Rule: "int32.gte"}},
		},
		{
			name: "duplicate tags on create",
			call: func(ctx context.Context, c taskClient, _ string) error {
				_, err := c.CreateTask(ctx, &tasksv1.CreateTaskRequest{Title: "x", Tags: []string{"Home", "home"}})
				return err
			},
			code: connect.CodeInvalidArgument, reason: ReasonInvalid, message: `tag "home" appears more than once`,
			violations: []validationcases.Violation{{Field: "tags"}},
		},
		{
			name: "duplicate tags on update",
			call: func(ctx context.Context, c taskClient, id string) error {
				_, err := c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: id, Tags: &tasksv1.TagList{Values: []string{"Home", "home"}}})
				return err
			},
			code: connect.CodeInvalidArgument, reason: ReasonInvalid, message: `tag "home" appears more than once`,
			violations: []validationcases.Violation{{Field: "tags.values"}},
		},
		{
			name: "due time past year 9999 on create",
			call: func(ctx context.Context, c taskClient, _ string) error {
				_, err := c.CreateTask(ctx, &tasksv1.CreateTaskRequest{Title: "x", DueTime: pastYear9999})
				return err
			},
			code: connect.CodeInvalidArgument, reason: ReasonValidation,
			violations: []validationcases.Violation{{Field: "due_time", Rule: "timestamp.gte_lte"}}, binaryOnly: true,
		},
		{
			name: "due time past year 9999 on update",
			call: func(ctx context.Context, c taskClient, id string) error {
				_, err := c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: id, DueTime: pastYear9999})
				return err
			},
			code: connect.CodeInvalidArgument, reason: ReasonValidation,
			violations: []validationcases.Violation{{Field: "due_time", Rule: "timestamp.gte_lte"}}, binaryOnly: true,
		},
		{
			// The issue 14 request: it used to be rounded into year 10000,
			// stored, and then failed every list of its user.
			name: "due time within the last second of year 9999",
			call: func(ctx context.Context, c taskClient, _ string) error {
				_, err := c.CreateTask(ctx, &tasksv1.CreateTaskRequest{Title: "x", DueTime: &timestamppb.Timestamp{Seconds: tasks.MaxTimeUnix, Nanos: 999_999_500}})
				return err
			},
			code: connect.CodeInvalidArgument, reason: ReasonValidation,
			violations: []validationcases.Violation{{Field: "due_time", Rule: "timestamp.gte_lte"}},
		},
		{
			// AsTime would carry the extra nanoseconds into the next
			// second and pass the domain's range check.
			name: "due time with a second's worth of nanos",
			call: func(ctx context.Context, c taskClient, _ string) error {
				_, err := c.CreateTask(ctx, &tasksv1.CreateTaskRequest{Title: "x", DueTime: &timestamppb.Timestamp{Seconds: 1, Nanos: 1e9}})
				return err
			},
			code: connect.CodeInvalidArgument, reason: ReasonInvalid,
			violations: []validationcases.Violation{{Field: "due_time"}}, binaryOnly: true,
		},
		{
			name: "due_before past year 9999",
			call: func(ctx context.Context, c taskClient, _ string) error {
				_, err := c.ListTasks(ctx, &tasksv1.ListTasksRequest{DueBefore: pastYear9999})
				return err
			},
			code: connect.CodeInvalidArgument, reason: ReasonValidation,
			violations: []validationcases.Violation{{Field: "due_before", Rule: "timestamp.gte_lte"}}, binaryOnly: true,
		},
		{
			name: "due_after past year 9999",
			call: func(ctx context.Context, c taskClient, _ string) error {
				_, err := c.ListTasks(ctx, &tasksv1.ListTasksRequest{DueAfter: pastYear9999})
				return err
			},
			code: connect.CodeInvalidArgument, reason: ReasonValidation,
			violations: []validationcases.Violation{{Field: "due_after", Rule: "timestamp.gte_lte"}}, binaryOnly: true,
		},
		{
			name: "bad page token",
			call: func(ctx context.Context, c taskClient, _ string) error {
				_, err := c.ListTasks(ctx, &tasksv1.ListTasksRequest{PageToken: "garbage"})
				return err
			},
			code: connect.CodeInvalidArgument, reason: ReasonInvalid, message: "invalid page token",
			violations: []validationcases.Violation{{Field: "page_token"}},
		},
		{
			// Refused before it is decoded, so before any interceptor.
			name: "message over MaxRequestBytes",
			call: func(ctx context.Context, c taskClient, id string) error {
				_, err := c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: id, Description: proto.String(strings.Repeat("d", testMaxRequestBytes))})
				return err
			},
			code: connect.CodeResourceExhausted,
		},
	}
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		store := newMemStore()
		c := p.dial(t, mustServe(t, store, serveOptions{}), "alice")
		task := mustCreateTask(t, c, &tasksv1.CreateTaskRequest{Title: "target"})
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				if tt.binaryOnly && p.json {
					t.Skip("protojson cannot encode the request")
				}
				cerr := mustFailWith(t, tt.call(context.Background(), c, task.GetId()), tt.code, tt.reason)
				if tt.message != "" && cerr.Message() != tt.message {
					t.Errorf("message %q, want %q", cerr.Message(), tt.message)
				}
				if got := fieldViolations(t, cerr); !slices.Equal(got, tt.violations) {
					t.Errorf("violations %v, want %v", got, tt.violations)
				}
			})
		}
		t.Cleanup(func() {
			if got, err := store.GetTask(context.Background(), "alice", task.GetId()); err != nil || got.ETag != task.GetEtag() {
				t.Errorf("a refused request changed the task: %+v, %v", got, err)
			}
		})
	})
}

// everyCall is a valid request to each procedure.
var everyCall = []struct {
	name string
	call func(ctx context.Context, c taskClient) error
}{
	{"CreateTask", func(ctx context.Context, c taskClient) error {
		_, err := c.CreateTask(ctx, &tasksv1.CreateTaskRequest{Title: "x"})
		return err
	}},
	{"GetTask", func(ctx context.Context, c taskClient) error {
		_, err := c.GetTask(ctx, &tasksv1.GetTaskRequest{Id: uuid.NewString()})
		return err
	}},
	{"ListTasks", func(ctx context.Context, c taskClient) error {
		_, err := c.ListTasks(ctx, &tasksv1.ListTasksRequest{})
		return err
	}},
	{"UpdateTask", func(ctx context.Context, c taskClient) error {
		_, err := c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: uuid.NewString(), Title: proto.String("x")})
		return err
	}},
	{"DeleteTask", func(ctx context.Context, c taskClient) error {
		_, err := c.DeleteTask(ctx, &tasksv1.DeleteTaskRequest{Id: uuid.NewString()})
		return err
	}},
}

// TestNoCaller checks that a call without credentials is refused before
// the store sees it, and that the handler fails closed should it be
// mounted without Authenticate.
func TestNoCaller(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts serveOptions
		user string
	}{
		{"refused by Authenticate", serveOptions{}, ""},
		{"handler without Authenticate", serveOptions{withoutAuthenticate: true}, "alice"}, // a token nobody reads
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eachProtocol(t, func(t *testing.T, p clientProtocol) {
				store := faultyStore{fail: func(context.Context) error {
					t.Error("the store was called")
					return nil
				}}
				c := p.dial(t, mustServe(t, store, tc.opts), tc.user)
				for _, rpc := range everyCall {
					cerr := mustFailWith(t, rpc.call(context.Background(), c), connect.CodeUnauthenticated, ReasonUnauthorized)
					if cerr.Message() != "invalid token" {
						t.Errorf("%s: message %q", rpc.name, cerr.Message())
					}
				}
			})
		})
	}
}

// TestStoreFailures checks what a client learns of a store that fails,
// and that the cause goes to the log instead.
func TestStoreFailures(t *testing.T) {
	t.Parallel()
	const driverText = `pq: password authentication failed for user "tasks"`
	tests := []struct {
		name    string
		err     error
		code    connect.Code
		reason  string
		message string
		logged  string // the cause, in the log
	}{
		{
			name:    "unavailable",
			err:     tasks.WrapError(tasks.KindUnavailable, errors.New("dial tcp 10.0.0.7:5432: connect: connection refused"), "database unavailable"),
			code:    connect.CodeUnavailable,
			reason:  ReasonUnavailable,
			message: "database unavailable",
			logged:  "connection refused",
		},
		{
			name:    "unexpected",
			err:     errors.New(driverText),
			code:    connect.CodeInternal,
			reason:  ReasonInternal,
			message: "internal error",
			logged:  "password authentication failed",
		},
		{
			name:    "internal with a cause",
			err:     tasks.WrapError(tasks.KindInternal, errors.New(driverText), "scanning a row"),
			code:    connect.CodeInternal,
			reason:  ReasonInternal,
			message: "internal error",
			logged:  "scanning a row",
		},
		{
			name:    "deadline",
			err:     context.DeadlineExceeded,
			code:    connect.CodeDeadlineExceeded,
			reason:  ReasonUnavailable,
			message: "deadline exceeded",
		},
	}
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				srv := mustServe(t, faultyStore{fail: func(context.Context) error { return tt.err }}, serveOptions{})
				c := p.dial(t, srv, "alice")
				for _, rpc := range everyCall {
					err := rpc.call(context.Background(), c)
					cerr := mustFailWith(t, err, tt.code, tt.reason)
					if cerr.Message() != tt.message || strings.Contains(err.Error(), "pq:") || strings.Contains(err.Error(), "tcp") {
						t.Errorf("%s: message %q (error %q), want %q", rpc.name, cerr.Message(), err, tt.message)
					}
				}
				if tt.logged != "" {
					srv.logs.mustContain(t, tt.logged)
				}
			})
		}
	})
}

// TestPanicInStore checks that a panic is answered Internal with a plain
// message and logged, and that the server goes on serving.
func TestPanicInStore(t *testing.T) {
	t.Parallel()
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		srv := mustServe(t, panickyStore{newMemStore()}, serveOptions{})
		c := p.dial(t, srv, "alice")
		task := mustCreateTask(t, c, &tasksv1.CreateTaskRequest{Title: "x"})
		for range 2 {
			_, err := c.GetTask(context.Background(), &tasksv1.GetTaskRequest{Id: task.GetId()})
			if cerr := mustFailWith(t, err, connect.CodeInternal, ReasonInternal); cerr.Message() != "internal error" {
				t.Fatalf("message %q", cerr.Message())
			}
		}
		srv.logs.mustContain(t, "assignment to entry in nil map", "GetTask")
		list := mustListTasks(t, c, &tasksv1.ListTasksRequest{})
		if len(list.GetTasks()) != 1 || list.GetTasks()[0].GetId() != task.GetId() {
			t.Fatalf("after the panics: %v", list)
		}
	})
}
