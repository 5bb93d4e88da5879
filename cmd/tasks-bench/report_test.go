package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func sampleReport() report {
	get := Result{Scenario: "get", Protocol: "connect-proto", Mode: "closed", Concurrency: 32, Throughput: 9000,
		LatencyMS: Percentiles{P50: 3, P90: 5, P99: 8, P999: 12, Max: 20}, ServerRSSMiB: 40}
	grpc := get
	grpc.Protocol, grpc.Throughput, grpc.Errors = "grpc", 8000, map[string]int64{"unavailable": 3}
	return report{
		Title:   "Run",
		Machine: "machine: 2 cores",
		API: []Result{
			get, grpc,
			{Scenario: "list", Protocol: "connect-proto", Mode: "closed", Concurrency: 32, Throughput: 5000},
			{Scenario: "list-deep", Protocol: "connect-proto", Mode: "closed", Concurrency: 32, LatencyMS: Percentiles{P50: 9}},
			{Scenario: "list-deep-first", Protocol: "connect-proto", Mode: "closed", Concurrency: 32, LatencyMS: Percentiles{P50: 8}},
		},
		Open: []Result{{Scenario: "mix", Protocol: "connect-proto", Mode: "open", Rate: 2000, Throughput: 2000,
			LatencyMS: Percentiles{P99: 4.5}, SendLagMS: &Percentiles{P99: 0.3}, ServerRSSMiB: 120, ServerHWMMiB: 120}},
		Ceiling: []CeilingResult{{Name: "get", Clients: 32, TPS: 20000}, {Name: "list", Clients: 32, TPS: 15000}},
		H2load:  []H2loadResult{{Name: "get-proto", Procedure: "GetTask", Clients: 32, RPS: 10000, Requests: 50000, OK: 50000}},
	}
}

func TestMarkdown(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	sampleReport().markdown(&buf)
	md := buf.String()
	for _, want := range []string{
		"### Run\n",
		"```\nmachine: 2 cores\n```",
		"| get | 32 | 20000 |",
		"| get-proto | 32 | 10000 | 50000 / 50000 |",
		"#### get (tasks-bench, closed loop)",
		"| connect-proto | c32 | 9000 | 3.00 | 5.00 | 8.00 | 12.00 | 0 | 0.45 | 40 | 0 / 0 / 0 |",
		"| grpc | c32 | 8000 | 3.00 | 5.00 | 8.00 | 12.00 | 3 | 0.40 | 40 | 0 / 0 / 0 |",
		"| mix | connect-proto | 2000/s | 2000 |",
		"| GetTask ≥ ⅓ of the select ceiling (tasks-bench) | 9000/s vs 20000/s: 0.45 | yes |",
		"| GetTask ≥ ⅓ of the select ceiling (h2load) | 10000/s vs 20000/s: 0.50 | yes |",
		"| first page of 50 ≥ 4,900/s (tasks-bench) | 5000/s | yes |",
		"| 9.00 ms vs 8.00 ms: 1.12× | yes |",
		"| GetTask p99 < 10 ms (32 workers) | 8.00 ms | yes |",
		"| mix at 2000/s (open loop) p99 < 5 ms | 4.50 ms | yes |",
		"| server RSS < 100 MiB (closed loop and h2load, peak) | 40 MiB | yes |",
		"| server RSS < 100 MiB (open loop, peak) | 120 MiB | **no** |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// A deep list has no ceiling to compare with.
	if !strings.Contains(md, "#### list-deep (tasks-bench, closed loop)") || strings.Count(md, "| – |") < 2 {
		t.Errorf("deep lists should show no ratio:\n%s", md)
	}
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	writeText(&buf, sampleReport().API[:2])
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 { // header, two rows, one errors line
		t.Fatalf("got %d lines:\n%s", len(lines), buf.String())
	}
	if f := strings.Fields(lines[1]); f[0] != "get" || f[1] != "connect-proto" || f[2] != "c32" || f[3] != "9000" {
		t.Errorf("row = %q", lines[1])
	}
	if !strings.Contains(lines[3], "errors: unavailable=3") {
		t.Errorf("errors line = %q", lines[3])
	}
}

func TestSplice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, doc, want string }{
		{"empty", "", beginMarker + "\n\nNEW\n\n" + endMarker + "\n"},
		{"no markers", "# Bench\n", "# Bench\n\n" + beginMarker + "\n\nNEW\n\n" + endMarker + "\n"},
		{"replaces", "head\n" + beginMarker + "\nOLD\n" + endMarker + "\ntail\n", "head\n" + beginMarker + "\n\nNEW\n\n" + endMarker + "\ntail\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(splice([]byte(tc.doc), []byte("\nNEW\n"))); got != tc.want {
				t.Errorf("splice = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	w := newWindow(sampleTime, 2e9, 10e9)
	if got := progressLine("get/grpc", w, sampleTime.Add(1e9), 10, 10, 0); !strings.Contains(got, "warming up") || !strings.Contains(got, "1.0s/10s") {
		t.Errorf("warm-up line = %q", got)
	}
	if got := progressLine("get/grpc", w, sampleTime.Add(5e9), 900, 300, 2); !strings.Contains(got, "measuring") || !strings.Contains(got, "3.0s/10s") || !strings.Contains(got, "300/s") || !strings.Contains(got, "2 errors") {
		t.Errorf("measuring line = %q", got)
	}
}

var sampleTime = time.Unix(1_700_000_000, 0)
