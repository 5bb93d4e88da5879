package tasks

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNormalizeTags(t *testing.T) {
	t.Parallel()
	got, err := normalizeTags([]string{"Work", "ÄRGER", "home"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"work", "ärger", "home"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, err := normalizeTags(nil); err != nil || len(got) != 0 {
		t.Errorf("nil tags: got %q, %v", got, err)
	}
}

func TestNormalizeTagsDuplicates(t *testing.T) {
	t.Parallel()
	for _, tags := range [][]string{{"work", "work"}, {"Work", "wORK"}, {"a", "Ä", "ä"}} {
		_, err := normalizeTags(tags)
		if KindOf(err) != KindInvalid {
			t.Errorf("%q: got %v, want an invalid error", tags, err)
		}
	}
}

func TestNormalizeTitle(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"  a b  ": "a b", "\u00a0x\u3000": "x", "x": "x"} {
		if got, err := normalizeTitle(in); err != nil || got != want {
			t.Errorf("normalizeTitle(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestTimeRange: the range is what API.md states, both ends included, and
// it holds after rounding, for creates, updates and the list filters alike.
func TestTimeRange(t *testing.T) {
	t.Parallel()
	if got := time.Unix(MinTimeUnix, 0).UTC().Format(time.RFC3339); got != "0001-01-01T00:00:00Z" {
		t.Errorf("MinTimeUnix is %s", got)
	}
	if got := time.Unix(MaxTimeUnix, 0).UTC().Format(time.RFC3339); got != "9999-12-31T23:59:59Z" {
		t.Errorf("MaxTimeUnix is %s", got)
	}
	for _, tc := range []struct {
		in   string
		want string // "" when refused
	}{
		{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
		{"9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"},
		{"9999-12-31T23:59:59.0000004Z", "9999-12-31T23:59:59Z"}, // rounds down into the range
		{"0000-12-31T23:59:59.9999996Z", "0001-01-01T00:00:00Z"}, // rounds up into it
		{"9999-12-31T23:59:59.9999995Z", ""},                     // rounds into year 10000
		{"9999-12-31T23:59:59.5Z", ""},
		{"0000-12-31T23:59:59.9999994Z", ""},
		{"10000-01-01T00:00:00Z", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			in := mustParseTime(t, tc.in)
			checks := map[string]func() (*time.Time, error){
				"create": func() (*time.Time, error) {
					n, err := NewTask{Title: "x", DueTime: &in}.Normalize()
					return n.DueTime, err
				},
				"update": func() (*time.Time, error) {
					p, err := TaskPatch{DueTime: &in}.Normalize()
					return p.DueTime, err
				},
				"due_before": func() (*time.Time, error) {
					q, err := ListQuery{Filter: TaskFilter{DueBefore: &in}}.Normalize()
					return q.Filter.DueBefore, err
				},
				"due_after": func() (*time.Time, error) {
					q, err := ListQuery{Filter: TaskFilter{DueAfter: &in}}.Normalize()
					return q.Filter.DueAfter, err
				},
			}
			for name, check := range checks {
				got, err := check()
				switch {
				case tc.want == "" && KindOf(err) != KindInvalid:
					t.Errorf("%s: got %v, %v; want it refused", name, got, err)
				case tc.want != "" && (err != nil || got == nil || !got.Equal(mustParseTime(t, tc.want))):
					t.Errorf("%s: got %v, %v; want %s", name, got, err, tc.want)
				}
			}
		})
	}
}

// mustParseTime parses an RFC 3339 time, years 0 and 10000 included (which
// time.Parse refuses).
func mustParseTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	shift := 0
	switch {
	case strings.HasPrefix(s, "0000-"):
		s, shift = "0001-"+s[5:], -1
	case strings.HasPrefix(s, "10000-"):
		s, shift = "9999-"+s[6:], 1
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t.AddDate(shift, 0, 0)
}
