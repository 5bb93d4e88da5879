package tasks

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// wantFieldError fails unless err is an Invalid *Error about field ("" for
// the request as a whole).
func wantFieldError(tb testing.TB, err error, field string) {
	tb.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindInvalid || e.Field != field {
		tb.Fatalf("got %#v, want an invalid error about %q", err, field)
	}
}

func TestNewTaskNormalize(t *testing.T) {
	t.Parallel()
	due := time.Date(2030, 1, 2, 3, 4, 5, 6789, time.FixedZone("x", 3600))
	got, err := NewTask{
		Title:     "  Buy milk\u3000",
		Priority:  PriorityHigh,
		Tags:      []string{"Home", "ÄRGER"},
		DueTime:   &due,
		RequestID: "7B0C1E2A-3D4F-4A5B-8C6D-7E8F9A0B1C2D",
	}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Buy milk" || !slices.Equal(got.Tags, []string{"home", "ärger"}) ||
		got.RequestID != "7b0c1e2a-3d4f-4a5b-8c6d-7e8f9a0b1c2d" || got.Priority != PriorityHigh {
		t.Errorf("normalized: %+v", got)
	}
	if want := time.Date(2030, 1, 2, 2, 4, 5, 7000, time.UTC); !got.DueTime.Equal(want) || got.DueTime.Location() != time.UTC {
		t.Errorf("due time %v, want %v rounded to µs in UTC", got.DueTime, want)
	}
	// At every limit, counted in characters.
	if _, err := (NewTask{
		Title:       strings.Repeat("é", MaxTitleLen),
		Description: strings.Repeat("é", MaxDescriptionLen),
		Tags:        manyTags(MaxTags),
	}).Normalize(); err != nil {
		t.Errorf("at the limits: %v", err)
	}
	if _, err := (NewTask{Title: "x", Tags: []string{strings.Repeat("é", MaxTagLen)}}).Normalize(); err != nil {
		t.Errorf("longest tag: %v", err)
	}

	for _, tc := range []struct {
		name  string
		task  NewTask
		field string
	}{
		{"empty title", NewTask{Title: " \t "}, "title"},
		{"long title", NewTask{Title: strings.Repeat("é", MaxTitleLen+1)}, "title"},
		{"NUL in title", NewTask{Title: "a\x00b"}, "title"},
		{"long description", NewTask{Title: "x", Description: strings.Repeat("é", MaxDescriptionLen+1)}, "description"},
		{"NUL in description", NewTask{Title: "x", Description: "\x00"}, "description"},
		{"undefined priority", NewTask{Title: "x", Priority: 4}, "priority"},
		{"negative priority", NewTask{Title: "x", Priority: -1}, "priority"},
		{"too many tags", NewTask{Title: "x", Tags: manyTags(MaxTags + 1)}, "tags"},
		{"duplicate tags", NewTask{Title: "x", Tags: []string{"Work", "wORK"}}, "tags"},
		{"long tag", NewTask{Title: "x", Tags: []string{strings.Repeat("a", MaxTagLen+1)}}, "tags"},
		{"empty tag", NewTask{Title: "x", Tags: []string{""}}, "tags"},
		{"due in year 10000", NewTask{Title: "x", DueTime: ptr(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))}, "due_time"},
		{"due in year 0", NewTask{Title: "x", DueTime: ptr(time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC))}, "due_time"},
		{"request id", NewTask{Title: "x", RequestID: "not-a-uuid"}, "request_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.task.Normalize()
			wantFieldError(t, err, tc.field)
		})
	}
}

func manyTags(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "t" + strings.Repeat("x", i)
	}
	return out
}

func TestPriorityAndOrderValid(t *testing.T) {
	t.Parallel()
	for p := PriorityUnspecified; p <= PriorityHigh; p++ {
		if !p.Valid() {
			t.Errorf("priority %d invalid", p)
		}
	}
	if Priority(4).Valid() || Priority(-1).Valid() {
		t.Error("undefined priorities valid")
	}
	for o := OrderUnspecified; o <= OrderTitleAsc; o++ {
		if !o.Valid() {
			t.Errorf("order %d invalid", o)
		}
	}
	if TaskOrder(7).Valid() || TaskOrder(-1).Valid() {
		t.Error("undefined orders valid")
	}
}

func TestCheckUserID(t *testing.T) {
	t.Parallel()
	if err := CheckUserID(strings.Repeat("é", MaxUserIDLen)); err != nil {
		t.Errorf("longest user id: %v", err)
	}
	if KindOf(CheckUserID("")) != KindInternal {
		t.Error("an empty user id must be a bug, not a bad request")
	}
	for id, msg := range map[string]string{
		strings.Repeat("a", MaxUserIDLen+1): "user id must be at most 255 characters",
		"a\x00b":                            "user id must not contain control characters",
		"a\x7fb":                            "user id must not contain control characters",
		"a\u0085b":                          "user id must not contain control characters",
		"a\xffb":                            "user id must be valid UTF-8",
		"a\ufffdb":                          "user id must be valid UTF-8", // what a decoder made of bytes that were not
	} {
		var e *Error
		if err := CheckUserID(id); !errors.As(err, &e) || e.Kind != KindInvalid || e.Message != msg {
			t.Errorf("%q: got %v, want Invalid %q", id, err, msg)
		}
	}
}

func TestUserContext(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	if _, ok := UserFrom(ctx); ok {
		t.Error("a user in an empty context")
	}
	if u, ok := UserFrom(WithUser(ctx, User{ID: "u1"})); !ok || u.ID != "u1" {
		t.Errorf("got %v, %v", u, ok)
	}
	if _, ok := UserFrom(WithUser(ctx, User{})); ok {
		t.Error("a user without an id counts as a caller")
	}
}
