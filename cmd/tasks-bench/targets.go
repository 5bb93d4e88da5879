package main

import (
	"fmt"
	"io"
)

// targetRow is one line of a targets table: what was asked, what this run
// measured, and whether it met it.
type targetRow struct{ target, value, met string }

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// targets checks issue 8's and issue 13's targets against this run, with
// tasks-bench's connect-proto numbers (and h2load's where it measured the
// same call), a table for each issue.
func (r report) targets(w io.Writer) {
	writeTargets(w, "issue 8", r.issue8())
	writeTargets(w, "issue 13", r.issue13())
}

func writeTargets(w io.Writer, issue string, rows []targetRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "#### Targets (%s)\n\n| target | this run | met |\n|---|---|---|\n", issue)
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s |\n", r.target, r.value, r.met)
	}
	fmt.Fprintln(w)
}

// proto is tasks-bench's connect-proto result for a closed-loop scenario.
func (r report) proto(scenario string) (Result, bool) {
	for _, a := range r.API {
		if a.Scenario == scenario && a.Protocol == "connect-proto" {
			return a, true
		}
	}
	return Result{}, false
}

func (r report) h2load(name string) (H2loadResult, bool) {
	for _, h := range r.H2load {
		if h.Name == name {
			return h, true
		}
	}
	return H2loadResult{}, false
}

// shareRow checks that rps reaches share of a ceiling's throughput.
func shareRow(label string, rps float64, c CeilingResult, share float64) targetRow {
	return targetRow{label, fmt.Sprintf("%.0f/s vs %.0f/s: %.2f", rps, c.TPS, rps/c.TPS), yes(rps >= share*c.TPS)}
}

// issue8 is the first round of targets: against the store's own SQL.
func (r report) issue8() []targetRow {
	var rows []targetRow
	third := func(label, sc, ceil, h2name string) {
		c, ok := r.ceiling(ceil)
		if !ok || c.TPS == 0 {
			return
		}
		if a, ok := r.proto(sc); ok {
			rows = append(rows, shareRow(label+" (tasks-bench)", a.Throughput, c, 1.0/3))
		}
		if h, ok := r.h2load(h2name); ok {
			rows = append(rows, shareRow(label+" (h2load)", h.RPS, c, 1.0/3))
		}
	}
	third("GetTask ≥ ⅓ of the select ceiling", "get", "get", "get-proto")
	third("CreateTask ≥ ⅓ of the insert ceiling", "create", "insert", "create-proto")
	if a, ok := r.proto("list"); ok {
		rows = append(rows, targetRow{"first page of 50 ≥ 4,900/s (tasks-bench)", fmt.Sprintf("%.0f/s", a.Throughput), yes(a.Throughput >= 4900)})
	}
	if h, ok := r.h2load("list-proto"); ok {
		rows = append(rows, targetRow{"first page of 50 ≥ 4,900/s (h2load)", fmt.Sprintf("%.0f/s", h.RPS), yes(h.RPS >= 4900)})
	}
	if deep, ok := r.proto("list-deep"); ok {
		if first, ok := r.proto("list-deep-first"); ok && first.LatencyMS.P50 > 0 {
			q := deep.LatencyMS.P50 / first.LatencyMS.P50
			rows = append(rows, targetRow{"page 100 ≤ 1.5× the first page's latency (p50, same users)",
				fmt.Sprintf("%.2f ms vs %.2f ms: %.2f×", deep.LatencyMS.P50, first.LatencyMS.P50, q), yes(q <= 1.5)})
		}
	}
	if a, ok := r.proto("get"); ok {
		rows = append(rows, targetRow{"GetTask p99 < 10 ms (32 workers)", fmt.Sprintf("%.2f ms", a.LatencyMS.P99), yes(a.LatencyMS.P99 < 10)})
	}
	for _, o := range r.Open {
		if o.Scenario == "mix" {
			rows = append(rows, targetRow{fmt.Sprintf("mix at %g/s (open loop) p99 < 5 ms", o.Rate), fmt.Sprintf("%.2f ms", o.LatencyMS.P99), yes(o.LatencyMS.P99 < 5 && o.ErrorCount() == 0)})
		}
	}
	// Memory is checked apart for the open loop: past the server's
	// capacity its calls queue inside the server, so its peak says how the
	// server holds up under overload rather than under the load of the
	// targets.
	closedPeak, openPeak := 0.0, 0.0
	for _, a := range r.API {
		closedPeak = max(closedPeak, a.ServerRSSMiB)
	}
	for _, h := range r.H2load {
		closedPeak = max(closedPeak, h.ServerHWMMiB)
	}
	for _, o := range r.Open {
		openPeak = max(openPeak, o.ServerRSSMiB)
	}
	if closedPeak > 0 {
		rows = append(rows, targetRow{"server RSS < 100 MiB (closed loop and h2load, peak)", fmt.Sprintf("%.0f MiB", closedPeak), yes(closedPeak < 100)})
	}
	if openPeak > 0 {
		rows = append(rows, targetRow{"server RSS < 100 MiB (open loop, peak)", fmt.Sprintf("%.0f MiB", openPeak), yes(openPeak < 100)})
	}
	return rows
}

// issue13 is the second round: h2load against the cheapest SQL's ceilings
// (bench/ceiling/*-best.sql), and the CPU each call costs the server and
// PostgreSQL (connect-proto, closed loop), which other load on the machine
// moves less than throughput.
func (r report) issue13() []targetRow {
	var rows []targetRow
	for _, t := range []struct {
		label, h2name, ceil string
		share               float64
	}{
		{"GetTask ≥ 0.35 of the prepared select ceiling", "get-proto", "get-best", 0.35},
		{"first page of 50 ≥ 0.35 of the prepared list ceiling", "list-proto", "list-best", 0.35},
		{"CreateTask ≥ 0.5 of the minimal-schema insert ceiling", "create-proto", "insert-best", 0.5},
	} {
		c, ok := r.ceiling(t.ceil)
		if h, found := r.h2load(t.h2name); ok && found && c.TPS > 0 {
			rows = append(rows, shareRow(t.label+" (h2load)", h.RPS, c, t.share))
		}
	}
	for _, t := range []struct {
		who, call, scenario string
		maxUS               float64
	}{
		{"server", "get", "get", 150},
		{"server", "list of 50", "list", 450},
		{"server", "create", "create", 200},
		{"server", "update", "update", 250},
		{"PostgreSQL", "get", "get", 100},
		{"PostgreSQL", "list of 50", "list", 300},
		{"PostgreSQL", "create", "create", 250},
	} {
		a, ok := r.proto(t.scenario)
		us := a.ServerCPUPerCallUS
		if t.who == "PostgreSQL" {
			us = a.DatabaseCPUPerCallUS
		}
		if !ok || us == 0 { // not measured (PostgreSQL's needs -pg-pid)
			continue
		}
		rows = append(rows, targetRow{fmt.Sprintf("%s CPU per %s ≤ %.0f µs (connect-proto)", t.who, t.call, t.maxUS),
			fmt.Sprintf("%.0f µs", us), yes(us <= t.maxUS)})
	}
	return rows
}
