package tasks

import (
	"strings"
	"time"
	"unicode/utf8"
)

// The rules a task's values follow, shared by NewTask, TaskPatch and
// ListQuery. The schema checks most of them before a request gets here;
// they are checked again so that a store is never handed what it cannot
// keep, whoever calls it.

func normalizeTitle(title string) (string, error) {
	title = strings.TrimSpace(title)
	switch {
	case title == "":
		return "", FieldErrorf("title", "title must not be empty")
	case utf8.RuneCountInString(title) > MaxTitleLen:
		return "", FieldErrorf("title", "title must be at most %d characters", MaxTitleLen)
	case strings.ContainsRune(title, 0):
		return "", FieldErrorf("title", "title must not contain NUL characters")
	}
	return title, nil
}

func checkDescription(d string) error {
	switch {
	case utf8.RuneCountInString(d) > MaxDescriptionLen:
		return FieldErrorf("description", "description must be at most %d characters", MaxDescriptionLen)
	case strings.ContainsRune(d, 0):
		return FieldErrorf("description", "description must not contain NUL characters")
	}
	return nil
}

func checkPriority(field string, p Priority) error {
	if !p.Valid() {
		return FieldErrorf(field, "priority %d is not a defined value", p)
	}
	return nil
}

// pageSize is the page size asked for n: def for 0, at most largest; a
// negative one is Invalid.
func pageSize(n, def, largest int) (int, error) {
	switch {
	case n < 0:
		return n, FieldErrorf("page_size", "page_size must not be negative")
	case n == 0:
		return def, nil
	}
	return min(n, largest), nil
}

// normalizeTags returns tags as they are stored: lower-cased, in the order
// given. Two tags that are equal once lower-cased are an Invalid error: the
// caller almost certainly meant one tag, and silently dropping one would
// hide that. An empty list is nil.
func normalizeTags(tags []string) ([]string, error) {
	if len(tags) > MaxTags {
		return nil, FieldErrorf("tags", "at most %d tags", MaxTags)
	}
	if len(tags) == 0 {
		return nil, nil
	}
	out := make([]string, len(tags))
	seen := make(map[string]struct{}, len(tags))
	for i, t := range tags {
		t = normalizeTag(t)
		if n := utf8.RuneCountInString(t); n < 1 || n > MaxTagLen || strings.ContainsRune(t, 0) {
			return nil, FieldErrorf("tags", "tag %q must be 1 to %d characters", clipTag(t), MaxTagLen)
		}
		if _, dup := seen[t]; dup {
			return nil, FieldErrorf("tags", "tag %q appears more than once", t)
		}
		seen[t] = struct{}{}
		out[i] = t
	}
	return out, nil
}

// clipTag is a tag as an error message may quote it: its first MaxTagLen
// characters and an ellipsis if there were more, so that a message never
// echoes a long input.
func clipTag(t string) string {
	i, n := 0, 0
	for i = range t {
		if n == MaxTagLen {
			return t[:i] + "…"
		}
		n++
	}
	return t
}

// normalizeTag returns a tag as it is stored and compared: lower-cased.
func normalizeTag(tag string) string { return strings.ToLower(tag) }

// TimePrecision is what every store keeps of a time (PostgreSQL keeps
// microseconds). Times are rounded to it before they are stored, so what a
// write returns is what a later read returns.
const TimePrecision = time.Microsecond

// RoundTime returns t as a store keeps it: rounded to TimePrecision, in
// UTC.
func RoundTime(t time.Time) time.Time { return t.Round(TimePrecision).UTC() }

// checkTime rounds t as a store keeps it and rejects the result when it is
// outside MinTimeUnix..MaxTimeUnix. The range is checked after rounding: a
// time a hair before the end of year 9999 rounds into year 10000, which no
// Timestamp can carry back to a client.
func checkTime(field string, t time.Time) (time.Time, error) {
	t = RoundTime(t)
	if s := t.Unix(); s < MinTimeUnix || s > MaxTimeUnix || s == MaxTimeUnix && t.Nanosecond() > 0 {
		return time.Time{}, FieldErrorf(field, "%s must be from %s to %s", field,
			time.Unix(MinTimeUnix, 0).UTC().Format(time.RFC3339), time.Unix(MaxTimeUnix, 0).UTC().Format(time.RFC3339))
	}
	return t, nil
}
