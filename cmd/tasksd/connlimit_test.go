package main

import "testing"

// TestConnectionLimitDerived: MAX_CONNECTIONS when set, else three
// quarters of the open-file limit, at most 10,000.
func TestConnectionLimitDerived(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		setting int
		nofile  uint64
		want    int
	}{
		{setting: 50, nofile: 1024, want: 50},
		{setting: 0, nofile: 1024, want: 768},
		{setting: 0, nofile: 20_000, want: 10_000},
		{setting: 0, nofile: 1 << 20, want: 10_000},
		{setting: 0, nofile: 0, want: 10_000},
		{setting: 0, nofile: 1, want: 1},
	} {
		if got := connectionLimit(tc.setting, tc.nofile); got != tc.want {
			t.Errorf("connectionLimit(%d, %d) = %d, want %d", tc.setting, tc.nofile, got, tc.want)
		}
	}
}
