package service

import (
	"context"
	"testing"
	"time"

	"github.com/example/tasks"
	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// spoil changes the stored task id of user in place, past the domain's
// rules, as a row written before a rule existed or by hand would be.
func (s *memStore) spoil(user, id string, change func(*tasks.Task)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	row := s.tasks[memKey{user, id}]
	change(&row.task)
	s.tasks[memKey{user, id}] = row
}

// TestStoredTaskRepaired: a stored task the wire cannot carry is sent with
// its values brought into range, by every call that returns it and over
// every protocol, and the log names it and the fields repaired.
func TestStoredTaskRepaired(t *testing.T) {
	t.Parallel()
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		store := newMemStore()
		srv := mustServe(t, store, serveOptions{})
		c := p.dial(t, srv, "alice")
		task := mustCreateTask(t, c, &tasksv1.CreateTaskRequest{Title: "x", Tags: []string{"a", "b"}})
		store.spoil("alice", task.GetId(), func(t *tasks.Task) {
			due := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
			t.DueTime = &due
			t.CreateTime = time.Date(-44, 3, 15, 0, 0, 0, 0, time.UTC)
			t.Title, t.Description, t.Tags = "ok\xff", "\xc3", []string{"a", "\xfe"}
		})
		want := func(got *tasksv1.Task) {
			t.Helper()
			switch {
			case got.GetDueTime().GetSeconds() != tasks.MaxTimeUnix || got.GetDueTime().GetNanos() != 0:
				t.Errorf("due_time %v, want 9999-12-31T23:59:59Z", got.GetDueTime().AsTime())
			case !got.GetCreateTime().AsTime().Equal(time.Unix(tasks.MinTimeUnix, 0)):
				t.Errorf("create_time %v, want 0001-01-01T00:00:00Z", got.GetCreateTime().AsTime())
			case got.GetTitle() != "ok\uFFFD" || got.GetDescription() != "\uFFFD":
				t.Errorf("title %q, description %q", got.GetTitle(), got.GetDescription())
			case len(got.GetTags()) != 2 || got.GetTags()[0] != "a" || got.GetTags()[1] != "\uFFFD":
				t.Errorf("tags %q", got.GetTags())
			case got.GetEtag() != task.GetEtag() || !got.GetUpdateTime().AsTime().Equal(task.GetUpdateTime().AsTime()):
				t.Errorf("etag %q, update_time %v: want those stored", got.GetEtag(), got.GetUpdateTime().AsTime())
			}
		}

		want(mustGetTask(t, c, task.GetId()))
		list, err := c.ListTasks(context.Background(), &tasksv1.ListTasksRequest{})
		if err != nil || len(list.GetTasks()) != 1 {
			t.Fatalf("ListTasks: %v, %v", list, err)
		}
		want(list.GetTasks()[0])
		changes, err := c.ListTaskChanges(context.Background(), &tasksv1.ListTaskChangesRequest{})
		if err != nil || len(changes.GetChanges()) != 1 {
			t.Fatalf("ListTaskChanges: %v, %v", changes, err)
		}
		want(changes.GetChanges()[0].GetTask())
		srv.logs.mustContain(t, `msg="stored task sent repaired" task=`+task.GetId(),
			`fields="[title description tags due_time create_time]"`)
	})
}

// TestRepairLeavesGoodTasks: a task within the rules goes out as stored,
// at both ends of the time range.
func TestRepairLeavesGoodTasks(t *testing.T) {
	t.Parallel()
	first, last := time.Unix(tasks.MinTimeUnix, 0).UTC(), time.Unix(tasks.MaxTimeUnix, 0).UTC()
	got, repaired := taskToProto(tasks.Task{ID: "x", Title: "é", Tags: []string{"日本"}, DueTime: &last, CreateTime: first, UpdateTime: last})
	if len(repaired) != 0 {
		t.Fatalf("repaired %v", repaired)
	}
	if !got.GetDueTime().AsTime().Equal(last) || !got.GetCreateTime().AsTime().Equal(first) || got.GetTitle() != "é" {
		t.Errorf("got %v", got)
	}
}
