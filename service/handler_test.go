package service

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/validationcases"
)

// The handlers' round trips, through every client protocol, over memStore.

func mustCreateTask(tb testing.TB, c taskClient, req *tasksv1.CreateTaskRequest) *tasksv1.Task {
	tb.Helper()
	resp, err := c.CreateTask(context.Background(), req)
	if err != nil {
		tb.Fatalf("CreateTask: %v", err)
	}
	return resp.GetTask()
}

func mustGetTask(tb testing.TB, c taskClient, id string) *tasksv1.Task {
	tb.Helper()
	resp, err := c.GetTask(context.Background(), &tasksv1.GetTaskRequest{Id: id})
	if err != nil {
		tb.Fatalf("GetTask: %v", err)
	}
	return resp.GetTask()
}

func mustUpdateTask(tb testing.TB, c taskClient, req *tasksv1.UpdateTaskRequest) *tasksv1.Task {
	tb.Helper()
	resp, err := c.UpdateTask(context.Background(), req)
	if err != nil {
		tb.Fatalf("UpdateTask: %v", err)
	}
	return resp.GetTask()
}

func mustListTasks(tb testing.TB, c taskClient, req *tasksv1.ListTasksRequest) *tasksv1.ListTasksResponse {
	tb.Helper()
	resp, err := c.ListTasks(context.Background(), req)
	if err != nil {
		tb.Fatalf("ListTasks: %v", err)
	}
	return resp
}

func mustEqualTask(tb testing.TB, got, want *tasksv1.Task) {
	tb.Helper()
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		tb.Fatalf("task differs (-want +got):\n%s", diff)
	}
}

func TestTaskLifecycle(t *testing.T) {
	t.Parallel()
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		c := p.dial(t, mustServe(t, newMemStore(), serveOptions{}), "alice")
		ctx := context.Background()
		due := time.Date(2031, 2, 3, 4, 5, 6, 789_123_456, time.UTC)
		created := mustCreateTask(t, c, &tasksv1.CreateTaskRequest{
			Title:       "  Write the report ",
			Description: "Two pages\nwith charts",
			Priority:    tasksv1.Priority_PRIORITY_HIGH,
			Tags:        []string{"Work", "Q3"},
			DueTime:     timestamppb.New(due),
		})
		if _, err := uuid.Parse(created.GetId()); err != nil || created.GetEtag() == "" || created.GetCreateTime() == nil {
			t.Fatalf("created %v", created)
		}
		mustEqualTask(t, created, &tasksv1.Task{
			Id:          created.GetId(),
			Title:       "Write the report",
			Description: "Two pages\nwith charts",
			Priority:    tasksv1.Priority_PRIORITY_HIGH,
			Tags:        []string{"work", "q3"},
			DueTime:     timestamppb.New(due.Round(time.Microsecond)),
			CreateTime:  created.GetCreateTime(),
			UpdateTime:  created.GetCreateTime(),
			Etag:        created.GetEtag(),
		})
		mustEqualTask(t, mustGetTask(t, c, created.GetId()), created)
		mustEqualTask(t, mustGetTask(t, c, strings.ToUpper(created.GetId())), created)
		list := mustListTasks(t, c, &tasksv1.ListTasksRequest{IncludeTotalSize: true})
		if list.GetTotalSize() != 1 || len(list.GetTasks()) != 1 || list.GetNextPageToken() != "" {
			t.Fatalf("list %v", list)
		}
		// Counted only when asked.
		if n := mustListTasks(t, c, &tasksv1.ListTasksRequest{}).GetTotalSize(); n != 0 {
			t.Fatalf("total_size %d without include_total_size", n)
		}
		mustEqualTask(t, list.GetTasks()[0], created)

		// An update with the current etag changes what it names.
		done := mustUpdateTask(t, c, &tasksv1.UpdateTaskRequest{
			Id:           created.GetId(),
			Completed:    proto.Bool(true),
			Priority:     tasksv1.Priority_PRIORITY_LOW.Enum(),
			Tags:         &tasksv1.TagList{Values: []string{"Home"}},
			ClearDueTime: true,
			Etag:         created.GetEtag(),
		})
		if done.GetEtag() == created.GetEtag() || !done.GetUpdateTime().AsTime().After(created.GetUpdateTime().AsTime()) {
			t.Fatalf("etag %q, update_time %v after an update", done.GetEtag(), done.GetUpdateTime().AsTime())
		}
		want := proto.CloneOf(created)
		want.Completed, want.Priority, want.Tags, want.DueTime = true, tasksv1.Priority_PRIORITY_LOW, []string{"home"}, nil
		want.UpdateTime, want.CompleteTime, want.Etag = done.GetUpdateTime(), done.GetUpdateTime(), done.GetEtag()
		mustEqualTask(t, done, want)
		mustEqualTask(t, mustGetTask(t, c, created.GetId()), done)

		// An update to the values the task has keeps its etag.
		same := mustUpdateTask(t, c, &tasksv1.UpdateTaskRequest{Id: created.GetId(), Title: proto.String("Write the report  "), Etag: done.GetEtag()})
		mustEqualTask(t, same, done)

		// A stale etag changes and deletes nothing.
		_, err := c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: created.GetId(), Title: proto.String("lost"), Etag: created.GetEtag()})
		mustFailWith(t, err, connect.CodeAborted, ReasonETagMismatch)
		err = mustDelete(c, created.GetId(), created.GetEtag())
		mustFailWith(t, err, connect.CodeAborted, ReasonETagMismatch)
		mustEqualTask(t, mustGetTask(t, c, created.GetId()), done)

		// An empty tag list clears the tags.
		cleared := mustUpdateTask(t, c, &tasksv1.UpdateTaskRequest{Id: created.GetId(), Tags: &tasksv1.TagList{}})
		if len(cleared.GetTags()) != 0 || cleared.GetEtag() == done.GetEtag() {
			t.Fatalf("after clearing the tags: %v", cleared)
		}

		if err := mustDelete(c, created.GetId(), cleared.GetEtag()); err != nil {
			t.Fatalf("DeleteTask: %v", err)
		}
		_, err = c.GetTask(ctx, &tasksv1.GetTaskRequest{Id: created.GetId()})
		mustFailWith(t, err, connect.CodeNotFound, ReasonNotFound)
		mustFailWith(t, mustDelete(c, created.GetId(), ""), connect.CodeNotFound, ReasonNotFound)
		if list := mustListTasks(t, c, &tasksv1.ListTasksRequest{IncludeTotalSize: true}); list.GetTotalSize() != 0 {
			t.Fatalf("list after delete: %v", list)
		}
	})
}

// mustDelete is DeleteTask, returning only its error.
func mustDelete(c taskClient, id, etag string) error {
	_, err := c.DeleteTask(context.Background(), &tasksv1.DeleteTaskRequest{Id: id, Etag: etag})
	return err
}

func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		srv := mustServe(t, newMemStore(), serveOptions{})
		alice, bob := p.dial(t, srv, "alice"), p.dial(t, srv, "bob")
		rid := uuid.NewString()
		first := mustCreateTask(t, alice, &tasksv1.CreateTaskRequest{Title: "first", RequestId: rid})
		again := mustCreateTask(t, alice, &tasksv1.CreateTaskRequest{Title: "second", RequestId: strings.ToUpper(rid)})
		mustEqualTask(t, again, first)
		theirs := mustCreateTask(t, bob, &tasksv1.CreateTaskRequest{Title: "theirs", RequestId: rid})
		if theirs.GetId() == first.GetId() || theirs.GetTitle() != "theirs" {
			t.Fatalf("another user's request id collided: %v", theirs)
		}
		if n := mustListTasks(t, alice, &tasksv1.ListTasksRequest{IncludeTotalSize: true}).GetTotalSize(); n != 1 {
			t.Fatalf("alice has %d tasks, want 1", n)
		}
	})
}

// TestIsolation checks that another user's task, an unknown id and a
// malformed one are all out of reach.
func TestIsolation(t *testing.T) {
	t.Parallel()
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		srv := mustServe(t, newMemStore(), serveOptions{})
		alice, bob := p.dial(t, srv, "alice"), p.dial(t, srv, "bob")
		task := mustCreateTask(t, alice, &tasksv1.CreateTaskRequest{Title: "mine"})
		ctx := context.Background()
		for _, tc := range []struct {
			name   string
			c      taskClient
			id     string
			code   connect.Code
			reason string
		}{
			{"another user's task", bob, task.GetId(), connect.CodeNotFound, ReasonNotFound},
			{"no such task", alice, uuid.NewString(), connect.CodeNotFound, ReasonNotFound},
			// The schema refuses an id that is not a UUID before a store
			// could answer NotFound.
			{"malformed id", alice, "not-a-uuid", connect.CodeInvalidArgument, ReasonValidation},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := tc.c.GetTask(ctx, &tasksv1.GetTaskRequest{Id: tc.id})
				mustFailWith(t, err, tc.code, tc.reason)
				_, err = tc.c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: tc.id, Title: proto.String("stolen")})
				mustFailWith(t, err, tc.code, tc.reason)
				_, err = tc.c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: tc.id, Title: proto.String("stolen"), Etag: task.GetEtag()})
				mustFailWith(t, err, tc.code, tc.reason)
				mustFailWith(t, mustDelete(tc.c, tc.id, ""), tc.code, tc.reason)
				cerr := mustFailWith(t, mustDelete(tc.c, tc.id, task.GetEtag()), tc.code, tc.reason)
				if tc.code == connect.CodeInvalidArgument {
					want := []validationcases.Violation{{Field: "id", Rule: "string.uuid"}}
					if got := fieldViolations(t, cerr); !slices.Equal(got, want) {
						t.Errorf("violations %v, want %v", got, want)
					}
				}
			})
		}
		if n := mustListTasks(t, bob, &tasksv1.ListTasksRequest{IncludeTotalSize: true}).GetTotalSize(); n != 0 {
			t.Errorf("bob lists %d tasks", n)
		}
		mustEqualTask(t, mustGetTask(t, alice, task.GetId()), task)
	})
}

func TestListTasks(t *testing.T) {
	t.Parallel()
	y2030 := timestamppb.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	y2031 := timestamppb.New(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	y2032 := timestamppb.New(time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC))
	filters := []struct {
		name string
		req  *tasksv1.ListTasksRequest
		want []string // titles
	}{
		{"tag, compared lower-cased", &tasksv1.ListTasksRequest{Tag: "EARLY"}, []string{"a", "b"}},
		{"completed", &tasksv1.ListTasksRequest{Completed: proto.Bool(true)}, []string{"b"}},
		{"open", &tasksv1.ListTasksRequest{Completed: proto.Bool(false)}, []string{"a", "c", "d", "e"}},
		{"priority", &tasksv1.ListTasksRequest{Priority: tasksv1.Priority_PRIORITY_HIGH}, []string{"a"}},
		{"query", &tasksv1.ListTasksRequest{Query: "MILK"}, []string{"c"}},
		{"due before", &tasksv1.ListTasksRequest{DueBefore: y2031}, []string{"a"}},
		{"due after", &tasksv1.ListTasksRequest{DueAfter: y2031}, []string{"d"}},
	}
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		srv := mustServe(t, newMemStore(), serveOptions{})
		c := p.dial(t, srv, "alice")
		for _, req := range []*tasksv1.CreateTaskRequest{
			{Title: "e", Priority: tasksv1.Priority_PRIORITY_LOW},
			{Title: "b", Tags: []string{"early"}},
			{Title: "d", DueTime: y2032},
			{Title: "a", Tags: []string{"Early"}, Priority: tasksv1.Priority_PRIORITY_HIGH, DueTime: y2030},
			{Title: "c", Description: "milk and bread"},
		} {
			task := mustCreateTask(t, c, req)
			if task.GetTitle() == "b" {
				mustUpdateTask(t, c, &tasksv1.UpdateTaskRequest{Id: task.GetId(), Completed: proto.Bool(true)})
			}
		}
		mustCreateTask(t, p.dial(t, srv, "bob"), &tasksv1.CreateTaskRequest{Title: "bob's", Tags: []string{"early"}})

		t.Run("pages", func(t *testing.T) {
			t.Parallel()
			var titles []string
			// The total asked for on the first page only, as clients do.
			req := &tasksv1.ListTasksRequest{PageSize: 2, OrderBy: tasksv1.TaskOrder_TASK_ORDER_TITLE_ASC, IncludeTotalSize: true}
			for pages := 1; ; pages++ {
				page := mustListTasks(t, c, req)
				wantTotal := int32(0)
				if pages == 1 {
					wantTotal = 5
				}
				if page.GetTotalSize() != wantTotal || len(page.GetTasks()) > 2 {
					t.Fatalf("page %d: %v", pages, page)
				}
				req.IncludeTotalSize = false
				for _, task := range page.GetTasks() {
					titles = append(titles, task.GetTitle())
				}
				if page.GetNextPageToken() == "" {
					break
				}
				if pages == 3 {
					t.Fatalf("a third page has a next page token")
				}
				req.PageToken = page.GetNextPageToken()
			}
			if want := []string{"a", "b", "c", "d", "e"}; !slices.Equal(titles, want) {
				t.Fatalf("titles %v, want %v", titles, want)
			}
		})
		for _, f := range filters {
			t.Run(f.name, func(t *testing.T) {
				t.Parallel()
				req := proto.CloneOf(f.req)
				req.OrderBy = tasksv1.TaskOrder_TASK_ORDER_TITLE_ASC
				req.IncludeTotalSize = true
				page := mustListTasks(t, c, req)
				var titles []string
				for _, task := range page.GetTasks() {
					titles = append(titles, task.GetTitle())
				}
				if !slices.Equal(titles, f.want) || int(page.GetTotalSize()) != len(f.want) {
					t.Fatalf("titles %v (total %d), want %v", titles, page.GetTotalSize(), f.want)
				}
			})
		}
	})
}
