package service

import "time"

// Task is one item on a user's list, as the store keeps it.
type Task struct {
	ID          string // UUIDv7, lowercase canonical form
	Title       string // trimmed
	Description string
	Completed   bool
	Priority    Priority
	Tags        []string // lower-cased, unique, in the order given
	DueTime     *time.Time
	CreateTime  time.Time
	UpdateTime  time.Time
	// CompleteTime is set when Completed became true and nil while it is
	// false.
	CompleteTime *time.Time
	// ETag changes whenever any field's value changes.
	ETag string
}

// Priority mirrors tasks.v1.Priority.
type Priority int32

// The priorities, with the same values as tasks.v1.Priority.
const (
	PriorityUnspecified Priority = 0
	PriorityLow         Priority = 1
	PriorityMedium      Priority = 2
	PriorityHigh        Priority = 3
)

// NewTask is what a caller gives to create a task.
type NewTask struct {
	Title       string
	Description string
	Priority    Priority
	Tags        []string
	DueTime     *time.Time
	// RequestID, when not empty, makes the create idempotent per user: a
	// second create with the same RequestID returns the first task.
	RequestID string
}

// TaskPatch lists the changes of an update; a nil field is left alone.
type TaskPatch struct {
	Title       *string
	Description *string
	Completed   *bool
	Priority    *Priority
	// Tags, when not nil, replaces all tags; a pointer to an empty slice
	// clears them.
	Tags         *[]string
	DueTime      *time.Time
	ClearDueTime bool
	// ETag, when not empty, must equal the task's current etag or the
	// update fails with a conflict and changes nothing.
	ETag string
}

// Empty reports whether the patch changes nothing.
func (p TaskPatch) Empty() bool {
	return p.Title == nil && p.Description == nil && p.Completed == nil &&
		p.Priority == nil && p.Tags == nil && p.DueTime == nil && !p.ClearDueTime
}
