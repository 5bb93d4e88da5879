package tasks

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPatchNormalize(t *testing.T) {
	t.Parallel()
	due := time.Date(2030, 1, 1, 0, 0, 0, 1500, time.UTC)
	got, err := TaskPatch{Title: ptr("  t  "), Tags: &[]string{"A", "b"}, DueTime: &due}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if *got.Title != "t" || !slices.Equal(*got.Tags, []string{"a", "b"}) || got.DueTime.Nanosecond() != 2000 {
		t.Errorf("normalized: %q %q %v", *got.Title, *got.Tags, got.DueTime)
	}
	if got, err := (TaskPatch{Tags: &[]string{}}).Normalize(); err != nil || got.Tags == nil || len(*got.Tags) != 0 {
		t.Errorf("clearing the tags: %v, %v", got.Tags, err)
	}

	for _, tc := range []struct {
		name  string
		patch TaskPatch
		field string
	}{
		{"empty", TaskPatch{ETag: "v1"}, ""},
		{"due time set and cleared", TaskPatch{DueTime: &due, ClearDueTime: true}, ""},
		{"blank title", TaskPatch{Title: ptr(" ")}, "title"},
		{"long description", TaskPatch{Description: ptr(strings.Repeat("x", MaxDescriptionLen+1))}, "description"},
		{"undefined priority", TaskPatch{Priority: ptr(Priority(9))}, "priority"},
		{"duplicate tags", TaskPatch{Tags: &[]string{"a", "A"}}, "tags"},
		{"due out of range", TaskPatch{DueTime: ptr(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))}, "due_time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.patch.Normalize()
			wantFieldError(t, err, tc.field)
		})
	}
}

func TestPatchApply(t *testing.T) {
	t.Parallel()
	created := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	due := created.Add(24 * time.Hour)
	task := Task{ID: "id", Title: "t", Tags: []string{"a"}, DueTime: &due, CreateTime: created, UpdateTime: created, ETag: "v1"}
	now := created.Add(time.Hour + 1234) // rounds to the microsecond

	mustApply := func(p TaskPatch, to Task, at time.Time) (Task, bool) {
		t.Helper()
		p, err := p.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		return p.Apply(to, at)
	}

	// Values equal to the current ones change nothing, update_time included.
	for _, p := range []TaskPatch{
		{Title: ptr(" t ")}, {Tags: &[]string{"A"}}, {DueTime: ptr(due)}, {Completed: ptr(false)}, {Priority: ptr(PriorityUnspecified)},
	} {
		if got, changed := mustApply(p, task, now); changed || got.UpdateTime != created {
			t.Errorf("%+v changed the task: %+v", p, got)
		}
	}

	got, changed := mustApply(TaskPatch{Completed: ptr(true), ClearDueTime: true, Tags: &[]string{}}, task, now)
	wantStamp := now.Round(time.Microsecond)
	switch {
	case !changed:
		t.Fatal("a real change reported none")
	case !got.UpdateTime.Equal(wantStamp):
		t.Errorf("update_time %v, want %v", got.UpdateTime, wantStamp)
	case got.CompleteTime == nil || !got.CompleteTime.Equal(wantStamp):
		t.Errorf("complete_time %v, want the update's instant", got.CompleteTime)
	case got.DueTime != nil || got.Tags != nil:
		t.Errorf("due time and tags not cleared: %v %v", got.DueTime, got.Tags)
	case got.ETag != task.ETag || got.CreateTime != created || got.ID != task.ID:
		t.Errorf("fields the patch does not own changed: %+v", got)
	}

	// Reopened: complete_time cleared. A clock behind the last update still
	// moves update_time forward.
	reopened, changed := mustApply(TaskPatch{Completed: ptr(false)}, got, created)
	if !changed || reopened.CompleteTime != nil {
		t.Errorf("reopened: %+v", reopened)
	}
	if want := got.UpdateTime.Add(TimePrecision); !reopened.UpdateTime.Equal(want) {
		t.Errorf("update_time with a clock behind: %v, want %v", reopened.UpdateTime, want)
	}
}
