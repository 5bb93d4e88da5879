package service

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// TestListTaskChanges: a full sync, then the changes after its cursor, on
// every protocol; a bad cursor is INVALID_REQUEST naming the field.
func TestListTaskChanges(t *testing.T) {
	t.Parallel()
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		s := mustServe(t, newMemStore(), serveOptions{})
		c := p.dial(t, s, "syncer-"+p.name)
		ctx := context.Background()
		kept := mustCreateTask(t, c, &tasksv1.CreateTaskRequest{Title: "kept"})
		gone := mustCreateTask(t, c, &tasksv1.CreateTaskRequest{Title: "gone"})

		full, err := c.ListTaskChanges(ctx, &tasksv1.ListTaskChangesRequest{PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(full.GetChanges()) != 1 || !full.GetHasMore() || full.GetChanges()[0].GetTask().GetId() != kept.GetId() {
			t.Fatalf("first page: %v", full)
		}
		rest, err := c.ListTaskChanges(ctx, &tasksv1.ListTaskChangesRequest{Cursor: full.GetNextCursor()})
		if err != nil {
			t.Fatal(err)
		}
		if len(rest.GetChanges()) != 1 || rest.GetHasMore() || rest.GetChanges()[0].GetTask().GetId() != gone.GetId() {
			t.Fatalf("second page: %v", rest)
		}
		if _, err := c.DeleteTask(ctx, &tasksv1.DeleteTaskRequest{Id: gone.GetId()}); err != nil {
			t.Fatal(err)
		}
		after, err := c.ListTaskChanges(ctx, &tasksv1.ListTaskChangesRequest{Cursor: rest.GetNextCursor()})
		if err != nil {
			t.Fatal(err)
		}
		if len(after.GetChanges()) != 1 || after.GetChanges()[0].GetDeletedTaskId() != gone.GetId() {
			t.Fatalf("after the delete: %v", after)
		}

		_, err = c.ListTaskChanges(ctx, &tasksv1.ListTaskChangesRequest{Cursor: "not a cursor"})
		got := mustFailWith(t, err, connect.CodeInvalidArgument, ReasonInvalid)
		if v := fieldViolations(t, got); len(v) != 1 || v[0].Field != "cursor" {
			t.Errorf("violations %v, want one for cursor", v)
		}
	})
}
