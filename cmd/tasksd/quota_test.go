package main

import (
	"context"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// TestTaskQuota: past MAX_TASKS_PER_USER a create is ResourceExhausted
// (QUOTA_EXCEEDED) on every protocol, a retry of a stored create still
// returns its task, and a deletion makes room.
func TestTaskQuota(t *testing.T) {
	t.Parallel()
	s := mustStartServer(t, map[string]string{"MAX_TASKS_PER_USER": "2"})
	ctx := context.Background()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			c := p.dial(t, s, s.mustToken(t, "hoarder-"+p.name))
			first := mustCreate(t, c, &tasksv1.CreateTaskRequest{Title: "one"})
			retry := &tasksv1.CreateTaskRequest{Title: "two", RequestId: uuid.NewString()}
			second := mustCreate(t, c, retry)

			_, err := c.CreateTask(ctx, &tasksv1.CreateTaskRequest{Title: "three"})
			got := mustFail(t, err, connect.CodeResourceExhausted, "QUOTA_EXCEEDED")
			if got.message != "at most 2 tasks per user; delete some to add more" {
				t.Errorf("message %q", got.message)
			}
			mustEqualTask(t, mustCreate(t, c, retry), second)

			if _, err := c.DeleteTask(ctx, &tasksv1.DeleteTaskRequest{Id: first.GetId()}); err != nil {
				t.Fatal(err)
			}
			mustCreate(t, c, &tasksv1.CreateTaskRequest{Title: "three, after a deletion"})
		})
	}
}
