package main

import "testing"

func TestParseGoroutineTotal(t *testing.T) {
	t.Parallel()
	n, err := parseGoroutineTotal("goroutine profile: total 10083\n9999 @ 0x47a0ae 0x40b5e5\n#\t0x47a0ad\truntime.gopark+0xcd\n")
	if err != nil || n != 10083 {
		t.Errorf("parseGoroutineTotal = %d, %v; want 10083", n, err)
	}
	if _, err := parseGoroutineTotal("<html>not found</html>"); err == nil {
		t.Error("parseGoroutineTotal accepted a page that is not a goroutine profile")
	}
}

func TestParseMemStats(t *testing.T) {
	t.Parallel()
	body := "heap profile: 3: 4096 [9: 8192] @ heap/1048576\n1: 4096 [1: 4096] @ 0x1\n\n" +
		"# runtime.MemStats\n# Alloc = 12345\n# HeapInuse = 20971520\n# Stack = 16777216 / 16777216\n# GCCPUFraction = 0.01\n"
	m := parseMemStats(body)
	if m["HeapInuse"] != 20<<20 || m["Stack"] != 16<<20 || m["Alloc"] != 12345 {
		t.Errorf("parseMemStats = %v", m)
	}
	if _, ok := m["GCCPUFraction"]; ok {
		t.Error("a fraction was read as a byte count")
	}
}
