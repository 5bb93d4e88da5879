package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Result is one run of one scenario over one protocol; its JSON form is the
// tool's machine-readable report.
type Result struct {
	Scenario string `json:"scenario"`
	Protocol string `json:"protocol"`
	// Mode is "closed" (Concurrency workers back to back) or "open"
	// (calls sent at Rate per second whatever the server does).
	Mode        string  `json:"mode"`
	Concurrency int     `json:"concurrency,omitempty"`
	Rate        float64 `json:"rate,omitempty"`
	Connections int     `json:"connections"`
	DurationS   float64 `json:"duration_s"`

	Requests   int64            `json:"requests"` // succeeded
	Errors     map[string]int64 `json:"errors,omitempty"`
	Throughput float64          `json:"throughput_rps"`
	// LatencyMS is from the call's start (closed loop) or its intended
	// send time (open loop) to its response.
	LatencyMS Percentiles `json:"latency_ms"`
	// SendLagMS (open loop) is how late the client sent calls: latency
	// the client, not the server, is to blame for.
	SendLagMS *Percentiles `json:"send_lag_ms,omitempty"`

	// The server's memory during the run, when the tool can see its
	// process: the largest VmRSS sampled and VmHWM (the peak since start).
	ServerRSSMiB float64 `json:"server_rss_mib,omitempty"`
	ServerHWMMiB float64 `json:"server_hwm_mib,omitempty"`
	// ServerCPUPerCallUS is the CPU time the server process used per
	// successful call during the measured part of the run: less sensitive
	// to other load on the machine than throughput is.
	ServerCPUPerCallUS float64 `json:"server_cpu_per_call_us,omitempty"`
	// The same for this tool (the client) and for PostgreSQL (-pg-pid):
	// with the server's, where the machine's CPU went.
	ClientCPUPerCallUS   float64 `json:"client_cpu_per_call_us,omitempty"`
	DatabaseCPUPerCallUS float64 `json:"database_cpu_per_call_us,omitempty"`
}

// Percentiles summarizes a latency histogram, in milliseconds.
type Percentiles struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

func percentiles(h *hdrhistogram.Histogram) Percentiles {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Percentiles{
		Mean: h.Mean() / 1000,
		P50:  ms(h.ValueAtQuantile(50)),
		P90:  ms(h.ValueAtQuantile(90)),
		P99:  ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)),
		Max:  ms(h.Max()),
	}
}

// ErrorCount is the number of failed calls.
func (r Result) ErrorCount() int64 {
	var n int64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

func newResult(scenario, protocol string, rec *recorder, duration time.Duration) Result {
	r := Result{
		Scenario:   scenario,
		Protocol:   protocol,
		DurationS:  duration.Seconds(),
		Requests:   rec.latency.TotalCount(),
		Throughput: float64(rec.latency.TotalCount()) / duration.Seconds(),
		LatencyMS:  percentiles(rec.latency),
	}
	if len(rec.errors) > 0 {
		r.Errors = maps.Clone(rec.errors)
	}
	if rec.lag.TotalCount() > 0 {
		p := percentiles(rec.lag)
		r.SendLagMS = &p
	}
	return r
}

// writeText writes results as an aligned table.
func writeText(w io.Writer, results []Result) {
	fmt.Fprintf(w, "%-16s %-14s %-10s %10s %8s %8s %8s %8s %8s %8s %7s %8s %20s\n",
		"scenario", "protocol", "load", "req/s", "p50 ms", "p90 ms", "p99 ms", "p99.9", "max ms", "errors", "lag99", "RSS MiB", "CPU µs srv/cli/db")
	for _, r := range results {
		lag := "-"
		if r.SendLagMS != nil {
			lag = fmt.Sprintf("%.2f", r.SendLagMS.P99)
		}
		rss := "-"
		if r.ServerRSSMiB > 0 {
			rss = fmt.Sprintf("%.0f", r.ServerRSSMiB)
		}
		cpu := fmt.Sprintf("%.0f/%.0f/%.0f", r.ServerCPUPerCallUS, r.ClientCPUPerCallUS, r.DatabaseCPUPerCallUS)
		fmt.Fprintf(w, "%-16s %-14s %-10s %10.0f %8.2f %8.2f %8.2f %8.2f %8.2f %8d %7s %8s %20s\n",
			r.Scenario, r.Protocol, r.load(), r.Throughput,
			r.LatencyMS.P50, r.LatencyMS.P90, r.LatencyMS.P99, r.LatencyMS.P999, r.LatencyMS.Max,
			r.ErrorCount(), lag, rss, cpu)
		if len(r.Errors) > 0 {
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
				parts = append(parts, fmt.Sprintf("%s=%d", k, r.Errors[k]))
			}
			fmt.Fprintf(w, "%16s errors: %s\n", "", strings.Join(parts, " "))
		}
	}
}

// load says how the run loaded the server: "c32" (32 workers) or "2000/s".
func (r Result) load() string {
	if r.Mode == "open" {
		return fmt.Sprintf("%g/s", r.Rate)
	}
	return fmt.Sprintf("c%d", r.Concurrency)
}
