package storage

import (
	"fmt"
	"maps"
	"strings"
	"testing"
)

// TestPayloads: commits are packed into payloads under PostgreSQL's limit
// and read back as they were, whatever the user ids hold.
func TestPayloads(t *testing.T) {
	t.Parallel()
	batch := map[string]int64{"with space": 7, "ünïcode": 1 << 40}
	for i := range 100 {
		batch[fmt.Sprint(strings.Repeat("u", 200), i)] = int64(i + 1)
	}
	got := map[string]int64{}
	ps := payloads(batch)
	if len(ps) < 3 {
		t.Errorf("%d payloads for ~20 KB of commits", len(ps))
	}
	for _, p := range ps {
		if len(p) > maxPayload {
			t.Errorf("a payload of %d bytes", len(p))
		}
		parsePayload(p, func(user string, pos int64) { got[user] = pos })
	}
	if !maps.Equal(got, batch) {
		t.Errorf("read back %d commits, want %d", len(got), len(batch))
	}
	parsePayload("garbage\n12\n x\n5 fine", func(user string, pos int64) {
		if user != "fine" || pos != 5 {
			t.Errorf("read %q %d from garbage", user, pos)
		}
	})
}
