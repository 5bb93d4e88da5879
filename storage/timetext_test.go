package storage

import (
	"testing"
	"time"
)

// TestParseTimeText: what PostgreSQL writes for a timestamptz is read,
// also where Go's layouts and pgdriver cannot (the rows of TestStoredBadRows
// in cmd/tasksd come through it).
func TestParseTimeText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Time{
		"2026-12-02 15:54:00.123456+00":   time.Date(2026, 12, 2, 15, 54, 0, 123456000, time.UTC),
		"2026-12-02 17:54:00+02":          time.Date(2026, 12, 2, 15, 54, 0, 0, time.UTC),
		"10000-01-01 00:00:00+00":         time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		"294276-12-31 23:59:59.999999+00": time.Date(294276, 12, 31, 23, 59, 59, 999999000, time.UTC),
		"12345-06-07 08:09:10.5-05:30":    time.Date(12345, 6, 7, 13, 39, 10, 500000000, time.UTC),
		"0044-03-15 12:00:00+00 BC":       time.Date(-43, 3, 15, 12, 0, 0, 0, time.UTC),
		"0001-12-31 00:00:00+00 BC":       time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC),
		"infinity":                        time.UnixMicro(1<<63 - 1).UTC(),
		"-infinity":                       time.UnixMicro(-1 << 63).UTC(),
	} {
		got, err := parseTimeText(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "-", "x-01-01 00:00:00+00"} {
		if got, err := parseTimeText(in); err == nil {
			t.Errorf("%q: got %v, want an error", in, got)
		}
	}
}
