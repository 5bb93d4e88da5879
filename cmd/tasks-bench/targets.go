package main

import (
	"fmt"
	"io"
)

// targets checks issue 8's targets against this run, with tasks-bench's
// connect-proto numbers (and h2load's where it measured the same call).
func (r report) targets(w io.Writer) {
	find := func(sc string) (Result, bool) {
		for _, a := range r.API {
			if a.Scenario == sc && a.Protocol == "connect-proto" {
				return a, true
			}
		}
		return Result{}, false
	}
	h2 := func(name string) (H2loadResult, bool) {
		for _, h := range r.H2load {
			if h.Name == name {
				return h, true
			}
		}
		return H2loadResult{}, false
	}
	type row struct{ target, value, met string }
	var rows []row
	yes := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	third := func(label, sc, ceil, h2name string) {
		c, ok := r.ceiling(ceil)
		if !ok {
			return
		}
		if a, ok := find(sc); ok {
			rows = append(rows, row{label + " (tasks-bench)", fmt.Sprintf("%.0f/s vs %.0f/s: %.2f", a.Throughput, c.TPS, a.Throughput/c.TPS), yes(a.Throughput*3 >= c.TPS)})
		}
		if h, ok := h2(h2name); ok {
			rows = append(rows, row{label + " (h2load)", fmt.Sprintf("%.0f/s vs %.0f/s: %.2f", h.RPS, c.TPS, h.RPS/c.TPS), yes(h.RPS*3 >= c.TPS)})
		}
	}
	third("GetTask ≥ ⅓ of the select ceiling", "get", "get", "get-proto")
	third("CreateTask ≥ ⅓ of the insert ceiling", "create", "insert", "create-proto")
	if a, ok := find("list"); ok {
		rows = append(rows, row{"first page of 50 ≥ 4,900/s (tasks-bench)", fmt.Sprintf("%.0f/s", a.Throughput), yes(a.Throughput >= 4900)})
	}
	if h, ok := h2("list-proto"); ok {
		rows = append(rows, row{"first page of 50 ≥ 4,900/s (h2load)", fmt.Sprintf("%.0f/s", h.RPS), yes(h.RPS >= 4900)})
	}
	if deep, ok := find("list-deep"); ok {
		if first, ok := find("list-deep-first"); ok && first.LatencyMS.P50 > 0 {
			q := deep.LatencyMS.P50 / first.LatencyMS.P50
			rows = append(rows, row{"page 100 ≤ 1.5× the first page's latency (p50, same users)",
				fmt.Sprintf("%.2f ms vs %.2f ms: %.2f×", deep.LatencyMS.P50, first.LatencyMS.P50, q), yes(q <= 1.5)})
		}
	}
	if a, ok := find("get"); ok {
		rows = append(rows, row{"GetTask p99 < 10 ms (32 workers)", fmt.Sprintf("%.2f ms", a.LatencyMS.P99), yes(a.LatencyMS.P99 < 10)})
	}
	for _, o := range r.Open {
		if o.Scenario == "mix" {
			rows = append(rows, row{fmt.Sprintf("mix at %g/s (open loop) p99 < 5 ms", o.Rate), fmt.Sprintf("%.2f ms", o.LatencyMS.P99), yes(o.LatencyMS.P99 < 5 && o.ErrorCount() == 0)})
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
		rows = append(rows, row{"server RSS < 100 MiB (closed loop and h2load, peak)", fmt.Sprintf("%.0f MiB", closedPeak), yes(closedPeak < 100)})
	}
	if openPeak > 0 {
		rows = append(rows, row{"server RSS < 100 MiB (open loop, peak)", fmt.Sprintf("%.0f MiB", openPeak), yes(openPeak < 100)})
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "#### Targets (issue 8)\n\n| target | this run | met |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s |\n", r.target, r.value, r.met)
	}
	fmt.Fprintln(w)
}
