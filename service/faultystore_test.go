package service

import (
	"context"

	"github.com/example/tasks"
)

// faultyStore is a tasks.TaskStore whose every method answers what fail
// returns, with zero values beside it: a store that is down, broken, slow
// or watched, for the calls a test makes.
type faultyStore struct {
	fail func(ctx context.Context) error
}

var _ tasks.TaskStore = faultyStore{}

func (s faultyStore) CreateTask(ctx context.Context, _ string, _ tasks.NewTask) (tasks.Task, error) {
	return tasks.Task{}, s.fail(ctx)
}

func (s faultyStore) GetTask(ctx context.Context, _, _ string) (tasks.Task, error) {
	return tasks.Task{}, s.fail(ctx)
}

func (s faultyStore) ListTasks(ctx context.Context, _ string, _ tasks.ListQuery) (tasks.TaskPage, error) {
	return tasks.TaskPage{}, s.fail(ctx)
}

func (s faultyStore) UpdateTask(ctx context.Context, _, _ string, _ tasks.TaskPatch) (tasks.Task, error) {
	return tasks.Task{}, s.fail(ctx)
}

func (s faultyStore) DeleteTask(ctx context.Context, _, _, _ string) error { return s.fail(ctx) }

func (s faultyStore) ListTaskChanges(ctx context.Context, _ string, _ tasks.ChangeQuery) (tasks.ChangePage, error) {
	return tasks.ChangePage{}, s.fail(ctx)
}

func (s faultyStore) ChangePositions(ctx context.Context, _ []string) (map[string]int64, error) {
	return nil, s.fail(ctx)
}

func (s faultyStore) Ping(ctx context.Context) error { return s.fail(ctx) }

// panickyStore is a memStore with a bug in GetTask.
type panickyStore struct{ *memStore }

func (panickyStore) GetTask(context.Context, string, string) (tasks.Task, error) {
	panic("bug: assignment to entry in nil map")
}
