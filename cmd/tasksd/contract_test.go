package main

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/google/go-cmp/cmp"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/validationcases"
)

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestContract runs the API contract through every client protocol against
// one server. Each protocol acts as its own users, so they run in parallel.
func TestContract(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, nil)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			alice := p.dial(t, s, s.mustToken(t, "alice-"+p.name))
			bob := p.dial(t, s, s.mustToken(t, "bob-"+p.name))
			t.Run("lifecycle", func(t *testing.T) { testLifecycle(t, alice) })
			t.Run("idempotent create", func(t *testing.T) { testIdempotentCreate(t, alice, bob) })
			t.Run("list", func(t *testing.T) { testList(t, bob) })
			t.Run("isolation", func(t *testing.T) { testIsolation(t, alice, bob) })
			t.Run("request errors", func(t *testing.T) { testRequestErrors(t, alice) })
			t.Run("auth", func(t *testing.T) { testAuth(t, s, p.dial) })
		})
	}
}

func mustCreate(tb testing.TB, c taskAPI, req *tasksv1.CreateTaskRequest) *tasksv1.Task {
	tb.Helper()
	resp, err := c.CreateTask(context.Background(), req)
	if err != nil {
		tb.Fatalf("CreateTask: %v", err)
	}
	return resp.GetTask()
}

func mustGet(tb testing.TB, c taskAPI, id string) *tasksv1.Task {
	tb.Helper()
	resp, err := c.GetTask(context.Background(), &tasksv1.GetTaskRequest{Id: id})
	if err != nil {
		tb.Fatalf("GetTask: %v", err)
	}
	return resp.GetTask()
}

func mustUpdate(tb testing.TB, c taskAPI, req *tasksv1.UpdateTaskRequest) *tasksv1.Task {
	tb.Helper()
	resp, err := c.UpdateTask(context.Background(), req)
	if err != nil {
		tb.Fatalf("UpdateTask: %v", err)
	}
	return resp.GetTask()
}

func mustEqualTask(tb testing.TB, got, want *tasksv1.Task) {
	tb.Helper()
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		tb.Fatalf("task differs (-want +got):\n%s", diff)
	}
}

func testLifecycle(t *testing.T, c taskAPI) {
	ctx := context.Background()
	due := timestamppb.New(time.Date(2031, 2, 3, 4, 5, 6, 789123456, time.UTC))
	created := mustCreate(t, c, &tasksv1.CreateTaskRequest{
		Title:       "  Write the report  ",
		Description: "Two pages\nwith charts",
		Priority:    tasksv1.Priority_PRIORITY_HIGH,
		Tags:        []string{"Work", "Q3"},
		DueTime:     due,
	})
	if !uuidV7.MatchString(created.GetId()) {
		t.Errorf("id %q is not a lowercase UUIDv7", created.GetId())
	}
	if created.GetTitle() != "Write the report" {
		t.Errorf("title %q: want it trimmed", created.GetTitle())
	}
	if !slices.Equal(created.GetTags(), []string{"work", "q3"}) {
		t.Errorf("tags %q: want them lower-cased", created.GetTags())
	}
	if created.GetEtag() == "" || created.GetCreateTime() == nil || created.GetCompleteTime() != nil || created.GetCompleted() {
		t.Errorf("unexpected new task: %v", created)
	}
	if !proto.Equal(created.GetCreateTime(), created.GetUpdateTime()) {
		t.Errorf("create_time %v != update_time %v", created.GetCreateTime(), created.GetUpdateTime())
	}
	if got := created.GetDueTime().AsTime(); !got.Equal(due.AsTime().Truncate(time.Microsecond)) {
		t.Errorf("due_time %v, want %v rounded to what the database keeps", got, due.AsTime())
	}
	// What the API returned is exactly what a later read returns.
	mustEqualTask(t, mustGet(t, c, created.GetId()), created)

	// Update with the current etag: only present fields change.
	done := mustUpdate(t, c, &tasksv1.UpdateTaskRequest{Id: created.GetId(), Completed: proto.Bool(true), Etag: created.GetEtag()})
	if !done.GetCompleted() || done.GetCompleteTime() == nil || done.GetEtag() == created.GetEtag() {
		t.Errorf("completing: %v", done)
	}
	if done.GetTitle() != created.GetTitle() || !slices.Equal(done.GetTags(), created.GetTags()) {
		t.Errorf("absent fields changed: %v", done)
	}
	if done.GetUpdateTime().AsTime().Before(created.GetUpdateTime().AsTime()) {
		t.Errorf("update_time went back: %v -> %v", created.GetUpdateTime(), done.GetUpdateTime())
	}
	mustEqualTask(t, mustGet(t, c, created.GetId()), done)

	// A stale etag changes nothing.
	_, err := c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: created.GetId(), Title: proto.String("lost"), Etag: created.GetEtag()})
	mustFail(t, err, connect.CodeAborted, "ETAG_MISMATCH")
	mustEqualTask(t, mustGet(t, c, created.GetId()), done)

	// Reopening clears complete_time; clearing tags and the due date.
	reopened := mustUpdate(t, c, &tasksv1.UpdateTaskRequest{
		Id: created.GetId(), Completed: proto.Bool(false), Tags: &tasksv1.TagList{}, ClearDueTime: true,
	})
	if reopened.GetCompleted() || reopened.GetCompleteTime() != nil || len(reopened.GetTags()) != 0 || reopened.GetDueTime() != nil {
		t.Errorf("reopening: %v", reopened)
	}

	// Nothing to update.
	_, err = c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: created.GetId()})
	mustFail(t, err, connect.CodeInvalidArgument, "INVALID_REQUEST")
	// Tags equal once lower-cased.
	_, err = c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: created.GetId(), Tags: &tasksv1.TagList{Values: []string{"Home", "home"}}})
	mustFail(t, err, connect.CodeInvalidArgument, "INVALID_REQUEST")

	// Delete: a stale etag deletes nothing; then gone for good.
	_, err = c.DeleteTask(ctx, &tasksv1.DeleteTaskRequest{Id: created.GetId(), Etag: done.GetEtag()})
	mustFail(t, err, connect.CodeAborted, "ETAG_MISMATCH")
	if _, err := c.DeleteTask(ctx, &tasksv1.DeleteTaskRequest{Id: created.GetId(), Etag: reopened.GetEtag()}); err != nil {
		t.Fatalf("DeleteTask: %v", err)
	}
	_, err = c.GetTask(ctx, &tasksv1.GetTaskRequest{Id: created.GetId()})
	mustFail(t, err, connect.CodeNotFound, "NOT_FOUND")
	_, err = c.DeleteTask(ctx, &tasksv1.DeleteTaskRequest{Id: created.GetId()})
	mustFail(t, err, connect.CodeNotFound, "NOT_FOUND")
}

func testIdempotentCreate(t *testing.T, alice, bob taskAPI) {
	req := &tasksv1.CreateTaskRequest{Title: "Pay rent", RequestId: "0b9a3c1e-6f4d-4d8e-9a51-2c7e8f0a1b2c"}
	first := mustCreate(t, alice, req)
	again := mustCreate(t, alice, req)
	mustEqualTask(t, again, first)
	// Another user with the same request id gets a task of their own.
	other := mustCreate(t, bob, req)
	if other.GetId() == first.GetId() {
		t.Errorf("request ids of different users collided")
	}
}

func testList(t *testing.T, c taskAPI) {
	ctx := context.Background()
	var ids []string
	for i := range 7 {
		tags := []string{"batch"}
		if i%2 == 0 {
			tags = append(tags, "even")
		}
		ids = append(ids, mustCreate(t, c, &tasksv1.CreateTaskRequest{Title: "item " + string(rune('a'+i)), Tags: tags}).GetId())
	}
	// Walk every page of two, newest first.
	var seen []string
	req := &tasksv1.ListTasksRequest{PageSize: 2, Tag: "BATCH", IncludeTotalSize: true}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		resp, err := c.ListTasks(ctx, req)
		if err != nil {
			t.Fatalf("ListTasks: %v", err)
		}
		if resp.GetTotalSize() != 7 {
			t.Errorf("total_size %d, want 7", resp.GetTotalSize())
		}
		for _, task := range resp.GetTasks() {
			seen = append(seen, task.GetId())
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	slices.Reverse(ids)
	if !slices.Equal(seen, ids) {
		t.Errorf("walked %q, want %q (newest first)", seen, ids)
	}

	// A filter narrows the list and the total.
	resp, err := c.ListTasks(ctx, &tasksv1.ListTasksRequest{Tag: "even", OrderBy: tasksv1.TaskOrder_TASK_ORDER_TITLE_ASC, IncludeTotalSize: true})
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, task := range resp.GetTasks() {
		titles = append(titles, task.GetTitle())
	}
	if want := []string{"item a", "item c", "item e", "item g"}; !slices.Equal(titles, want) || resp.GetTotalSize() != 4 {
		t.Errorf("tag even by title: %q (total %d), want %q", titles, resp.GetTotalSize(), want)
	}

	// A token only works with the filters it was made for, unaltered.
	first, err := c.ListTasks(ctx, &tasksv1.ListTasksRequest{PageSize: 1, Tag: "batch"})
	if err != nil {
		t.Fatal(err)
	}
	token := first.GetNextPageToken()
	for name, bad := range map[string]*tasksv1.ListTasksRequest{
		"other filter": {PageSize: 1, Tag: "even", PageToken: token},
		"other order":  {PageSize: 1, Tag: "batch", OrderBy: tasksv1.TaskOrder_TASK_ORDER_TITLE_ASC, PageToken: token},
		"altered":      {PageSize: 1, Tag: "batch", PageToken: alter(token)},
		"truncated":    {PageSize: 1, Tag: "batch", PageToken: token[:len(token)/2]},
		"garbage":      {PageSize: 1, Tag: "batch", PageToken: "not a token"},
	} {
		_, err := c.ListTasks(ctx, bad)
		if got := inspect(t, err); got.code != connect.CodeInvalidArgument || got.reason != "INVALID_REQUEST" {
			t.Errorf("%s token: got %v/%s", name, got.code, got.reason)
		}
	}
}

// alter changes one character in the middle of s.
func alter(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func testIsolation(t *testing.T, alice, bob taskAPI) {
	ctx := context.Background()
	secret := mustCreate(t, alice, &tasksv1.CreateTaskRequest{Title: "alice's secret"})
	_, err := bob.GetTask(ctx, &tasksv1.GetTaskRequest{Id: secret.GetId()})
	mustFail(t, err, connect.CodeNotFound, "NOT_FOUND")
	_, err = bob.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: secret.GetId(), Title: proto.String("mine")})
	mustFail(t, err, connect.CodeNotFound, "NOT_FOUND")
	_, err = bob.DeleteTask(ctx, &tasksv1.DeleteTaskRequest{Id: secret.GetId()})
	mustFail(t, err, connect.CodeNotFound, "NOT_FOUND")
	resp, err := bob.ListTasks(ctx, &tasksv1.ListTasksRequest{Query: "secret", IncludeTotalSize: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetTasks()) != 0 || resp.GetTotalSize() != 0 {
		t.Errorf("bob sees %d of alice's tasks", resp.GetTotalSize())
	}
	// Alice's page token is no good to Bob.
	page, err := alice.ListTasks(ctx, &tasksv1.ListTasksRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if page.GetNextPageToken() != "" {
		_, err = bob.ListTasks(ctx, &tasksv1.ListTasksRequest{PageSize: 1, PageToken: page.GetNextPageToken()})
		mustFail(t, err, connect.CodeInvalidArgument, "INVALID_REQUEST")
	}
	mustEqualTask(t, mustGet(t, alice, secret.GetId()), secret)
}

// testRequestErrors sends every case of the shared validation table and
// checks the server rejects exactly the invalid ones, naming each
// violation.
func testRequestErrors(t *testing.T, c taskAPI) {
	ctx := context.Background()
	cases, err := validationcases.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, vc := range cases {
		_, err := callByType(ctx, c, vc.Message)
		if len(vc.Violations) == 0 {
			if err != nil {
				if got := inspect(t, err); got.reason == "VALIDATION_ERROR" {
					t.Errorf("%s: valid request rejected: %q", vc.Name, got.message)
				}
			}
			continue
		}
		got := mustFail(t, err, connect.CodeInvalidArgument, "VALIDATION_ERROR")
		if !slices.Equal(got.violations, vc.Violations) {
			t.Errorf("%s: violations %v, want %v", vc.Name, got.violations, vc.Violations)
		}
	}
}

// TestOutOfRangeTimestamp: a timestamp past year 9999 breaks the schema's
// range; one with negative nanos passes the schema but not the server.
// Only binary protocols can send them (JSON cannot encode them).
func TestOutOfRangeTimestamp(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, nil)
	for _, p := range protocols {
		if p.name == "connect-json" || p.name == "connect-get" {
			continue
		}
		c := p.dial(t, s, s.mustToken(t, "time-traveller"))
		_, err := c.CreateTask(context.Background(), &tasksv1.CreateTaskRequest{Title: "t", DueTime: &timestamppb.Timestamp{Seconds: 1 << 40}})
		mustFail(t, err, connect.CodeInvalidArgument, "VALIDATION_ERROR")
		_, err = c.ListTasks(context.Background(), &tasksv1.ListTasksRequest{DueAfter: &timestamppb.Timestamp{Nanos: -1}})
		mustFail(t, err, connect.CodeInvalidArgument, "INVALID_REQUEST")
	}
}

func callByType(ctx context.Context, c taskAPI, msg proto.Message) (proto.Message, error) {
	switch m := msg.(type) {
	case *tasksv1.CreateTaskRequest:
		return c.CreateTask(ctx, m)
	case *tasksv1.GetTaskRequest:
		return c.GetTask(ctx, m)
	case *tasksv1.ListTasksRequest:
		return c.ListTasks(ctx, m)
	case *tasksv1.UpdateTaskRequest:
		return c.UpdateTask(ctx, m)
	case *tasksv1.DeleteTaskRequest:
		return c.DeleteTask(ctx, m)
	case *tasksv1.ListTaskChangesRequest:
		return c.ListTaskChanges(ctx, m)
	case *tasksv1.WatchTasksRequest:
		return c.WatchFirst(ctx, m)
	}
	panic("no RPC takes " + string(msg.ProtoReflect().Descriptor().FullName()))
}

func testAuth(t *testing.T, s *testServer, dial func(testing.TB, *testServer, string) taskAPI) {
	ctx := context.Background()
	expired, err := mintTokenAt(s.cfg, "carol", time.Hour, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	for name, tc := range map[string]struct{ token, message string }{
		"no token":     {"", "invalid token"},
		"garbage":      {"not.a.jwt", "invalid token"},
		"expired":      {expired, "token expired"},
		"wrong secret": {mustForeignToken(t), "invalid token"},
		// Genuine, but the sub cannot be a user.
		"sub with a NUL": {mustSignedPayload(t, s, `{"sub": "a\u0000b", "exp": `+exp+`}`), "invalid token: user id must not contain control characters"},
		"sub not UTF-8":  {mustSignedPayload(t, s, `{"sub": "a`+"\xff"+`b", "exp": `+exp+`}`), "invalid token: user id must be valid UTF-8"},
	} {
		_, err := dial(t, s, tc.token).ListTasks(ctx, &tasksv1.ListTasksRequest{})
		got := mustFail(t, err, connect.CodeUnauthenticated, "UNAUTHORIZED")
		if got.message != tc.message {
			t.Errorf("%s: message %q, want %q", name, got.message, tc.message)
		}
	}
}

// mustSignedPayload signs payload, JSON written by hand, with the server's
// secret.
func mustSignedPayload(tb testing.TB, s *testServer, payload string) string {
	tb.Helper()
	signed, err := jws.Sign([]byte(payload), jws.WithKey(jwa.HS256, []byte(s.cfg.JWTSecret)))
	if err != nil {
		tb.Fatal(err)
	}
	return string(signed)
}

// mustForeignToken is a well-formed token signed with some other secret.
func mustForeignToken(tb testing.TB) string {
	tb.Helper()
	cfg := config{JWTSecret: mustRandomHex(tb, 32)}
	token, err := mintToken(cfg, "mallory", time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return token
}
