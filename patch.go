package tasks

import (
	"slices"
	"time"
)

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

// Normalize checks p and returns it with its values as a store keeps them
// (see NewTask.Normalize). A patch that changes nothing, or both sets and
// clears the due time, is Invalid.
func (p TaskPatch) Normalize() (TaskPatch, error) {
	if p.Empty() {
		return p, Errorf(KindInvalid, "the update changes nothing")
	}
	if p.DueTime != nil && p.ClearDueTime {
		return p, Errorf(KindInvalid, "due_time and clear_due_time cannot be combined")
	}
	if p.Title != nil {
		title, err := normalizeTitle(*p.Title)
		if err != nil {
			return p, err
		}
		p.Title = &title
	}
	if p.Description != nil {
		if err := checkDescription(*p.Description); err != nil {
			return p, err
		}
	}
	if p.Priority != nil {
		if err := checkPriority("priority", *p.Priority); err != nil {
			return p, err
		}
	}
	if p.Tags != nil {
		tags, err := normalizeTags(*p.Tags)
		if err != nil {
			return p, err
		}
		p.Tags = &tags
	}
	if p.DueTime != nil {
		due, err := checkTime("due_time", *p.DueTime)
		if err != nil {
			return p, err
		}
		p.DueTime = &due
	}
	return p, nil
}

// Apply returns t with the normalized patch p applied, and whether any
// value changed. Only a real change moves update_time: to now, or just
// after t's update_time when the clock says otherwise (clocks of replicas
// disagree), so update times only ever grow. complete_time follows
// completed: set to the same instant when it becomes true, cleared when it
// becomes false. The ETag is the store's to change.
func (p TaskPatch) Apply(t Task, now time.Time) (Task, bool) {
	next := t
	if p.Title != nil {
		next.Title = *p.Title
	}
	if p.Description != nil {
		next.Description = *p.Description
	}
	if p.Priority != nil {
		next.Priority = *p.Priority
	}
	if p.Tags != nil {
		next.Tags = *p.Tags
	}
	switch {
	case p.DueTime != nil:
		next.DueTime = p.DueTime
	case p.ClearDueTime:
		next.DueTime = nil
	}
	if p.Completed != nil {
		next.Completed = *p.Completed
	}
	changed := next.Title != t.Title || next.Description != t.Description ||
		next.Priority != t.Priority || !slices.Equal(next.Tags, t.Tags) ||
		!sameTime(next.DueTime, t.DueTime) || next.Completed != t.Completed
	if !changed {
		return t, false
	}
	stamp := RoundTime(now)
	if !stamp.After(t.UpdateTime) {
		stamp = t.UpdateTime.Add(TimePrecision)
	}
	next.UpdateTime = stamp
	if next.Completed != t.Completed {
		next.CompleteTime = nil
		if next.Completed {
			next.CompleteTime = &stamp
		}
	}
	return next, true
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
