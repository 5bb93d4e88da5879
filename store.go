package tasks

import "context"

// TaskStore keeps every user's tasks. Each method acts for one user only:
// another user's task is reported exactly like one that does not exist.
// Errors are *Error values with the kinds documented on each method; every
// store checks its input with the Normalize methods, whoever calls it.
type TaskStore interface {
	// CreateTask stores a new task. With a RequestID the user already used,
	// it stores nothing and returns the task that first request created, or
	// NotFound when that task has been deleted since (while the deletion is
	// remembered): a retry never brings a deleted task back. Invalid: what
	// NewTask.Normalize rejects.
	CreateTask(ctx context.Context, userID string, t NewTask) (Task, error)
	// GetTask returns a task, or NotFound.
	GetTask(ctx context.Context, userID, id string) (Task, error)
	// ListTasks returns one page. Invalid: what ListQuery.Normalize
	// rejects, or a page token that is not one this store issued for the
	// same user, filter and order.
	ListTasks(ctx context.Context, userID string, q ListQuery) (TaskPage, error)
	// UpdateTask applies a patch (TaskPatch.Apply) in one transaction and
	// returns the task as it is afterwards. NotFound; Conflict when the
	// patch's ETag is stale (nothing changes); Invalid: what
	// TaskPatch.Normalize rejects.
	UpdateTask(ctx context.Context, userID, id string, p TaskPatch) (Task, error)
	// DeleteTask removes a task. NotFound; Conflict when etag is not empty
	// and stale (nothing is deleted).
	DeleteTask(ctx context.Context, userID, id, etag string) error
	// ListTaskChanges returns one page of the user's changes after
	// q.Cursor (see ChangePage). Invalid: what ChangeQuery.Normalize
	// rejects, or a cursor this store did not issue to the user;
	// CursorExpired: a cursor from before the oldest deletion the store
	// still remembers.
	ListTaskChanges(ctx context.Context, userID string, q ChangeQuery) (ChangePage, error)
	// ChangePositions returns the position of the latest change of each of
	// the users (0 for a user who never wrote), so that watchers can tell
	// whether they missed a wake-up.
	ChangePositions(ctx context.Context, userIDs []string) (map[string]int64, error)
	// Ping reports whether the database answers, for health checks.
	Ping(ctx context.Context) error
}
