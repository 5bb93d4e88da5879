package service

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/example/tasks"
)

// repairs makes a stored task's values fit the wire. The domain keeps
// every value a task is written with inside what the API can carry, but a
// row written before a rule existed (a due time rounded into year 10000)
// or by hand (text that is not UTF-8, which SQLite keeps) could not be
// encoded, and one such task would fail every call that returns it: the
// whole list, every sync page. Instead the task is sent with the value
// brought into range, times clamped to the API's range and invalid UTF-8
// replaced by U+FFFD, and the fields it changed are noted for the log. The
// row is left as it is: its etag is the stored one, and the next write of
// the field replaces it.
type repairs struct{ fields []string }

func (r *repairs) note(field string) {
	if len(r.fields) == 0 || r.fields[len(r.fields)-1] != field {
		r.fields = append(r.fields, field)
	}
}

func (r *repairs) text(field, s string) string {
	if utf8.ValidString(s) {
		return s
	}
	r.note(field)
	return strings.ToValidUTF8(s, string(utf8.RuneError))
}

// texts repairs a list in a copy, leaving the stored task's alone.
func (r *repairs) texts(field string, list []string) []string {
	out := list
	for i, s := range list {
		if !utf8.ValidString(s) {
			if &out[0] == &list[0] {
				out = slices.Clone(list)
			}
			out[i] = r.text(field, s)
		}
	}
	return out
}

func (r *repairs) time(field string, t time.Time) *timestamppb.Timestamp {
	ts := timestamppb.New(t)
	switch s := ts.GetSeconds(); {
	case s < tasks.MinTimeUnix:
		r.note(field)
		return &timestamppb.Timestamp{Seconds: tasks.MinTimeUnix}
	case s >= tasks.MaxTimeUnix && ts.GetNanos() > 0, s > tasks.MaxTimeUnix:
		r.note(field)
		return &timestamppb.Timestamp{Seconds: tasks.MaxTimeUnix}
	}
	return ts
}

func (r *repairs) timeOrNil(field string, t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return r.time(field, *t)
}
