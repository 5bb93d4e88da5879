package tasks

import "time"

// Task is one item on a user's list, as the store keeps it.
type Task struct {
	ID          string // UUIDv7, lowercase canonical form
	Title       string // trimmed
	Description string
	Completed   bool
	Priority    Priority
	Tags        []string // lower-cased, unique, in the order given; nil when none
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

// Valid reports whether p is one of the defined priorities.
func (p Priority) Valid() bool { return p >= PriorityUnspecified && p <= PriorityHigh }

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

// Normalize checks t and returns it as a store keeps it: the title
// trimmed, the tags lower-cased, the due time rounded to TimePrecision and
// the request id in canonical form. A value that breaks a rule is an
// Invalid error naming its field.
func (t NewTask) Normalize() (NewTask, error) {
	var err error
	if t.Title, err = normalizeTitle(t.Title); err != nil {
		return t, err
	}
	if err := checkDescription(t.Description); err != nil {
		return t, err
	}
	if err := checkPriority("priority", t.Priority); err != nil {
		return t, err
	}
	if t.Tags, err = normalizeTags(t.Tags); err != nil {
		return t, err
	}
	if t.DueTime != nil {
		due, err := checkTime("due_time", *t.DueTime)
		if err != nil {
			return t, err
		}
		t.DueTime = &due
	}
	if t.RequestID != "" {
		id, ok := ParseUUID(t.RequestID)
		if !ok {
			return t, FieldErrorf("request_id", "request_id must be a UUID")
		}
		t.RequestID = id
	}
	return t, nil
}
