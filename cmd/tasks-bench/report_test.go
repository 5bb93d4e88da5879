package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func sampleReport() report {
	get := Result{Scenario: "get", Protocol: "connect-proto", Mode: "closed", Concurrency: 32, Throughput: 9000,
		LatencyMS: Percentiles{P50: 3, P90: 5, P99: 8, P999: 12, Max: 20}, ServerRSSMiB: 40,
		ServerCPUPerCallUS: 140, ClientCPUPerCallUS: 90, DatabaseCPUPerCallUS: 120}
	grpc := get
	grpc.Protocol, grpc.Throughput, grpc.Errors = "grpc", 8000, map[string]int64{"unavailable": 3}
	return report{
		Title:   "Run",
		Machine: "machine: 2 cores",
		API: []Result{
			get, grpc,
			// No PostgreSQL CPU: measured without -pg-pid.
			{Scenario: "list", Protocol: "connect-proto", Mode: "closed", Concurrency: 32, Throughput: 5000, ServerCPUPerCallUS: 500},
			{Scenario: "update", Protocol: "connect-proto", Mode: "closed", Concurrency: 32, Throughput: 3000, ServerCPUPerCallUS: 250},
			{Scenario: "list-deep", Protocol: "connect-proto", Mode: "closed", Concurrency: 32, LatencyMS: Percentiles{P50: 9}},
			{Scenario: "list-deep-first", Protocol: "connect-proto", Mode: "closed", Concurrency: 32, LatencyMS: Percentiles{P50: 8}},
		},
		Open: []Result{{Scenario: "mix", Protocol: "connect-proto", Mode: "open", Rate: 2000, Throughput: 2000,
			LatencyMS: Percentiles{P99: 4.5}, SendLagMS: &Percentiles{P99: 0.3}, ServerRSSMiB: 120, ServerHWMMiB: 120}},
		// Lines from before ceiling.sh wrote a mode (get, list) and after;
		// no store's insert to set beside insert-best.
		Ceiling: []CeilingResult{
			{Name: "get", Clients: 32, TPS: 20000}, {Name: "get-best", Mode: "prepared", Clients: 32, TPS: 40000},
			{Name: "list", Clients: 32, TPS: 15000}, {Name: "list-best", Mode: "prepared", Clients: 32, TPS: 30000},
			{Name: "insert-best", Mode: "prepared", Clients: 32, TPS: 6000},
		},
		H2load: []H2loadResult{
			{Name: "get-proto", Procedure: "GetTask", Clients: 32, RPS: 10000, Requests: 50000, OK: 50000},
			{Name: "list-proto", Procedure: "ListTasks", Clients: 32, RPS: 12000, Requests: 60000, OK: 60000},
			{Name: "create-proto", Procedure: "CreateTask", Clients: 32, RPS: 3000, Requests: 15000, OK: 15000},
		},
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
		"| get | simple | 32 | 20000 |",
		"| get-best | prepared | 32 | 40000 |",
		"The store's SQL against the cheapest: get 0.50 (20000 vs 40000 tx/s), list 0.50 (15000 vs 30000 tx/s).\n",
		"| get-proto | 32 | 10000 | 50000 / 50000 |",
		"#### get (tasks-bench, closed loop)",
		"| connect-proto | c32 | 9000 | 3.00 | 5.00 | 8.00 | 12.00 | 0 | 0.45 | 40 | 140 / 90 / 120 |",
		"| grpc | c32 | 8000 | 3.00 | 5.00 | 8.00 | 12.00 | 3 | 0.40 | 40 | 140 / 90 / 120 |",
		"| mix | connect-proto | 2000/s | 2000 |",
		"| GetTask ≥ ⅓ of the select ceiling (tasks-bench) | 9000/s vs 20000/s: 0.45 | yes |",
		"| GetTask ≥ ⅓ of the select ceiling (h2load) | 10000/s vs 20000/s: 0.50 | yes |",
		"| first page of 50 ≥ 4,900/s (tasks-bench) | 5000/s | yes |",
		"| 9.00 ms vs 8.00 ms: 1.12× | yes |",
		"| GetTask p99 < 10 ms (32 workers) | 8.00 ms | yes |",
		"| mix at 2000/s (open loop) p99 < 5 ms | 4.50 ms | yes |",
		"| server RSS < 100 MiB (closed loop and h2load, peak) | 40 MiB | yes |",
		"| server RSS < 100 MiB (open loop, peak) | 120 MiB | **no** |",
		"#### Targets (issue 13)\n",
		"| GetTask ≥ 0.35 of the prepared select ceiling (h2load) | 10000/s vs 40000/s: 0.25 | **no** |",
		"| first page of 50 ≥ 0.35 of the prepared list ceiling (h2load) | 12000/s vs 30000/s: 0.40 | yes |",
		"| CreateTask ≥ 0.5 of the minimal-schema insert ceiling (h2load) | 3000/s vs 6000/s: 0.50 | yes |",
		"| server CPU per get ≤ 150 µs (connect-proto) | 140 µs | yes |",
		"| server CPU per list of 50 ≤ 450 µs (connect-proto) | 500 µs | **no** |",
		"| server CPU per update ≤ 250 µs (connect-proto) | 250 µs | yes |",
		"| PostgreSQL CPU per get ≤ 100 µs (connect-proto) | 120 µs | **no** |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// A deep list has no ceiling to compare with.
	if !strings.Contains(md, "#### list-deep (tasks-bench, closed loop)") || strings.Count(md, "| – |") < 2 {
		t.Errorf("deep lists should show no ratio:\n%s", md)
	}
	// Nothing measured, nothing claimed: no store's insert ceiling, no
	// create scenario, no PostgreSQL CPU for the list.
	for _, absent := range []string{"insert 1.", "CreateTask ≥ ⅓", "CPU per create", "PostgreSQL CPU per list"} {
		if strings.Contains(md, absent) {
			t.Errorf("markdown has %q:\n%s", absent, md)
		}
	}
}

// A run from before the cheapest SQL's ceilings and the CPU columns has
// issue 8's targets only.
func TestMarkdownIssue8Only(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	r.Ceiling = []CeilingResult{{Name: "get", Clients: 32, TPS: 20000}, {Name: "insert", Clients: 32, TPS: 3000}}
	for i := range r.API {
		r.API[i].ServerCPUPerCallUS, r.API[i].DatabaseCPUPerCallUS = 0, 0
	}
	var buf bytes.Buffer
	r.markdown(&buf)
	md := buf.String()
	for _, want := range []string{
		"| insert | simple | 32 | 3000 |",
		"| GetTask ≥ ⅓ of the select ceiling (h2load) | 10000/s vs 20000/s: 0.50 | yes |",
		"| CreateTask ≥ ⅓ of the insert ceiling (h2load) | 3000/s vs 3000/s: 1.00 | yes |",
		"| first page of 50 ≥ 4,900/s (h2load) | 12000/s | yes |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	for _, absent := range []string{"Targets (issue 13)", "against the cheapest"} {
		if strings.Contains(md, absent) {
			t.Errorf("markdown has %q:\n%s", absent, md)
		}
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
