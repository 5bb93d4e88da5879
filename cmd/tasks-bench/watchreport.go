package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// WatchReport is what `tasks-bench watch` measured; its JSON form is what
// `tasks-bench markdown -watch` renders.
type WatchReport struct {
	Protocol             string `json:"protocol"`
	Users                int    `json:"users"`
	StreamsPerConnection int    `json:"streams_per_connection"`
	// Baseline is the server after seeding, with no watch open.
	Baseline   ServerState  `json:"baseline"`
	Phases     []WatchPhase `json:"phases"`
	Throughput []WriteRun   `json:"throughput,omitempty"`
}

// WatchPhase is one number of open watches: idle, then under writes.
type WatchPhase struct {
	Watches     int              `json:"watches"`
	Connections int              `json:"connections"`
	OpenS       float64          `json:"open_s"`
	OpenErrors  map[string]int64 `json:"open_errors,omitempty"`
	// OpenPeakRSSMiB is the largest RSS sampled while they opened.
	OpenPeakRSSMiB float64 `json:"open_peak_rss_mib,omitempty"`
	// Idle is the server a few seconds after they opened; AfterGC the same
	// after a garbage collection, as a long-lived watch sees it.
	Idle    ServerState `json:"idle"`
	AfterGC ServerState `json:"after_gc"`
	// What one watch adds to the server in each, against the baseline.
	IdlePerWatch    PerWatch `json:"idle_per_watch"`
	AfterGCPerWatch PerWatch `json:"after_gc_per_watch"`
	// Deliveries are the open-loop writer's runs, one per rate, with
	// these watches open.
	Deliveries []WriteRun `json:"deliveries,omitempty"`
}

// WriteRun is one run of writers to watched users.
type WriteRun struct {
	Watches int `json:"watches"`
	Round   int `json:"round,omitempty"`
	// Writes are the writers' calls, as other scenarios report theirs; the
	// CPU per call is per write, the watches' work included.
	Writes      Result           `json:"writes"`
	Delivery    *DeliveryStats   `json:"delivery,omitempty"`
	WatchErrors map[string]int64 `json:"watch_errors,omitempty"`
	Heartbeats  int64            `json:"heartbeats,omitempty"`
	// End is the server right after the run.
	End ServerState `json:"end"`
}

func (s ServerState) String() string {
	return fmt.Sprintf("RSS %.0f MiB, %d goroutines, heap %.1f MiB, stacks %.1f MiB (load %s)",
		s.RSSMiB, s.Goroutines, s.HeapInuseMiB, s.StackInuseMiB, s.LoadAvg)
}

// PerWatch is what each open watch adds to the server.
type PerWatch struct {
	RSSKiB     float64 `json:"rss_kib,omitempty"`
	Goroutines float64 `json:"goroutines,omitempty"`
	HeapKiB    float64 `json:"heap_kib,omitempty"`
	StackKiB   float64 `json:"stack_kib,omitempty"`
}

// perWatch is what each of n watches adds in s over base; zero where
// either side is unknown.
func perWatch(s, base ServerState, n int) PerWatch {
	var p PerWatch
	if n <= 0 {
		return p
	}
	per := func(a, b float64) float64 { return (a - b) / float64(n) }
	if s.RSSMiB > 0 && base.RSSMiB > 0 {
		p.RSSKiB = per(s.RSSMiB, base.RSSMiB) * 1024
	}
	if s.Goroutines > 0 && base.Goroutines > 0 {
		p.Goroutines = per(float64(s.Goroutines), float64(base.Goroutines))
	}
	if s.HeapInuseMiB > 0 && base.HeapInuseMiB > 0 {
		p.HeapKiB = per(s.HeapInuseMiB, base.HeapInuseMiB) * 1024
		p.StackKiB = per(s.StackInuseMiB, base.StackInuseMiB) * 1024
	}
	return p
}

// summaryLine is a write run in one line, for the progress output.
func (r WriteRun) summaryLine(label string) string {
	line := fmt.Sprintf("%s: %.0f writes/s, p99 %.1f ms, CPU µs/write %.0f/%.0f/%.0f", label,
		r.Writes.Throughput, r.Writes.LatencyMS.P99, r.Writes.ServerCPUPerCallUS, r.Writes.ClientCPUPerCallUS, r.Writes.DatabaseCPUPerCallUS)
	if d := r.Delivery; d != nil {
		line += fmt.Sprintf("; delivered %d/%d, delay p50 %.1f p99 %.1f ms", d.Delivered, d.Expected, d.FromAnswerMS.P50, d.FromAnswerMS.P99)
	}
	return line + " (load " + r.End.LoadAvg + ")"
}

// writeText writes the report as plain lines.
func (r WatchReport) writeText(w io.Writer) {
	fmt.Fprintf(w, "watch: %d users, %s, %d streams per connection\n", r.Users, r.Protocol, r.StreamsPerConnection)
	fmt.Fprintf(w, "  0 watches: %s\n", r.Baseline)
	for _, p := range r.Phases {
		fmt.Fprintf(w, "  %d watches on %d connections, opened in %.1fs: %s; per watch %.1f KiB RSS, %.2f goroutines%s\n",
			p.Watches, p.Connections, p.OpenS, p.Idle, p.IdlePerWatch.RSSKiB, p.IdlePerWatch.Goroutines, errorList(p.OpenErrors))
		fmt.Fprintf(w, "    after a collection: %s; per watch %.1f KiB RSS, %.1f KiB heap, %.1f KiB stack\n",
			p.AfterGC, p.AfterGCPerWatch.RSSKiB, p.AfterGCPerWatch.HeapKiB, p.AfterGCPerWatch.StackKiB)
		for _, d := range p.Deliveries {
			fmt.Fprintf(w, "    %s%s\n", d.summaryLine(fmt.Sprintf("%g writes/s", d.Writes.Rate)), deliveryDetail(&d))
		}
	}
	for _, t := range r.Throughput {
		fmt.Fprintf(w, "  %s%s\n", t.summaryLine(fmt.Sprintf("round %d, %d watches, closed loop", t.Round, t.Watches)), deliveryDetail(&t))
	}
}

func deliveryDetail(r *WriteRun) string {
	s := errorList(r.Writes.Errors)
	if d := r.Delivery; d != nil && (d.Missing+d.Superseded+d.Duplicates+d.Unmatched > 0 || len(r.WatchErrors) > 0) {
		s += fmt.Sprintf("; superseded %d, missing %d, duplicates %d, unmatched %d%s",
			d.Superseded, d.Missing, d.Duplicates, d.Unmatched, errorList(r.WatchErrors))
	}
	return s
}

func errorList(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return " (errors: " + strings.Join(parts, " ") + ")"
}

// markdown renders the report as BENCHMARKS.md tables, and the targets of
// issue 12 (item 7).
func (r WatchReport) markdown(w io.Writer) {
	fmt.Fprintf(w, "#### Watch: idle watches (`tasks-bench watch`, %d users, %s, %d streams per HTTP/2 connection)\n\n", r.Users, r.Protocol, r.StreamsPerConnection)
	fmt.Fprintf(w, "Per watch: the difference from the server with no watch open (measured after a garbage collection), divided by the number of watches.\n\n")
	fmt.Fprintf(w, "| watches | connections | opened in s | measured | server RSS MiB | per watch KiB | goroutines | per watch | Go heap MiB | per watch KiB | Go stacks MiB | per watch KiB | open errors | load average |\n|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	b := r.Baseline
	fmt.Fprintf(w, "| 0 | – | – | after a collection | %.0f | – | %d | – | %.1f | – | %.1f | – | – | %s |\n", b.RSSMiB, b.Goroutines, b.HeapInuseMiB, b.StackInuseMiB, b.LoadAvg)
	for _, p := range r.Phases {
		for _, st := range []struct {
			label string
			s     ServerState
			per   PerWatch
		}{{"a few seconds after opening", p.Idle, p.IdlePerWatch}, {"after a collection", p.AfterGC, p.AfterGCPerWatch}} {
			if st.s.RSSMiB == 0 && st.s.Goroutines == 0 {
				continue
			}
			fmt.Fprintf(w, "| %d | %d | %.1f | %s | %.0f | %.1f | %d | %.2f | %.1f | %.1f | %.1f | %.1f | %d | %s |\n",
				p.Watches, p.Connections, p.OpenS, st.label, st.s.RSSMiB, st.per.RSSKiB, st.s.Goroutines, st.per.Goroutines,
				st.s.HeapInuseMiB, st.per.HeapKiB, st.s.StackInuseMiB, st.per.StackKiB, sum(p.OpenErrors), st.s.LoadAvg)
		}
	}
	fmt.Fprintln(w)

	var runs []WriteRun
	for _, p := range r.Phases {
		runs = append(runs, p.Deliveries...)
	}
	if len(runs) > 0 {
		fmt.Fprintf(w, "#### Watch: delivery while an open-loop writer creates and updates the watched users' tasks\n\n")
		fmt.Fprintf(w, "Delay from the writer receiving the write's answer to the watch receiving the change (and from sending the write). Write errors: calls the server shed (`MAX_IN_FLIGHT`). Missing: not delivered within the grace period after the writes stopped.\n\n")
		fmt.Fprintf(w, "| watches | writes/s (target) | write p99 ms | write errors | delivered / expected | superseded | missing | delay p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | from send p99 ms | CPU µs/write: server / client / PostgreSQL | RSS MiB | load average |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, run := range runs {
			d := run.Delivery
			fmt.Fprintf(w, "| %d | %.0f (%g) | %.2f | %d | %d / %d | %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f / %.0f / %.0f | %.0f | %s |\n",
				run.Watches, run.Writes.Throughput, run.Writes.Rate, run.Writes.LatencyMS.P99, run.Writes.ErrorCount(), d.Delivered, d.Expected, d.Superseded, d.Missing,
				d.FromAnswerMS.P50, d.FromAnswerMS.P90, d.FromAnswerMS.P99, d.FromAnswerMS.P999, d.FromAnswerMS.Max, d.FromSendMS.P99,
				run.Writes.ServerCPUPerCallUS, run.Writes.ClientCPUPerCallUS, run.Writes.DatabaseCPUPerCallUS, run.Writes.ServerRSSMiB, run.End.LoadAvg)
		}
		fmt.Fprintln(w)
	}

	if len(r.Throughput) > 0 {
		fmt.Fprintf(w, "#### Watch: write throughput with and without watches (closed loop, back to back)\n\n")
		fmt.Fprintf(w, "| round | watches | writes/s | p50 ms | p99 ms | errors | CPU µs/write: server / client / PostgreSQL | delay p99 ms | load average |\n|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, t := range r.Throughput {
			delay := "–"
			if t.Delivery != nil {
				delay = fmt.Sprintf("%.2f", t.Delivery.FromAnswerMS.P99)
			}
			fmt.Fprintf(w, "| %d | %d | %.0f | %.2f | %.2f | %d | %.0f / %.0f / %.0f | %s | %s |\n",
				t.Round, t.Watches, t.Writes.Throughput, t.Writes.LatencyMS.P50, t.Writes.LatencyMS.P99, t.Writes.ErrorCount(),
				t.Writes.ServerCPUPerCallUS, t.Writes.ClientCPUPerCallUS, t.Writes.DatabaseCPUPerCallUS, delay, t.End.LoadAvg)
		}
		fmt.Fprintln(w)
	}
	r.targets(w)
}

// targets checks issue 12's watch targets (item 7): 10,000 idle watches under 200 MiB of
// RSS, p99 delivery under 100 ms at 500 writes/s with 1,000 watches, and
// write throughput with 1,000 watches within 10% of without.
func (r WatchReport) targets(w io.Writer) {
	type row struct{ target, value, met string }
	var rows []row
	yes := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	for _, p := range r.Phases {
		if p.Watches == 10_000 && p.Idle.RSSMiB > 0 {
			worst := max(p.Idle.RSSMiB, p.AfterGC.RSSMiB)
			rows = append(rows, row{"10,000 idle watches: server RSS < 200 MiB",
				fmt.Sprintf("%.0f MiB a few seconds after opening, %.0f MiB after a collection (%.1f KiB per watch); %d failed to open",
					p.Idle.RSSMiB, p.AfterGC.RSSMiB, p.AfterGCPerWatch.RSSKiB, sum(p.OpenErrors)),
				yes(worst < 200 && sum(p.OpenErrors) == 0)})
		}
	}
	for _, p := range r.Phases {
		for _, d := range p.Deliveries {
			if p.Watches != 1000 || d.Delivery == nil || d.Writes.Rate != 500 {
				continue
			}
			dd := d.Delivery
			rows = append(rows, row{"p99 delivery < 100 ms at 500 writes/s with 1,000 watches",
				fmt.Sprintf("p99 %.2f ms from the answer (%.2f ms from the send) at %.0f writes/s; %d missing, %d writes failed",
					dd.FromAnswerMS.P99, dd.FromSendMS.P99, d.Writes.Throughput, dd.Missing, d.Writes.ErrorCount()),
				yes(dd.FromAnswerMS.P99 < 100 && dd.Missing == 0 && dd.Expected > 0 && d.Writes.ErrorCount() == 0)})
		}
	}
	var without, with, cpuWithout, cpuWith []float64
	n, withDB := 0, false
	for _, t := range r.Throughput {
		withDB = withDB || t.Writes.DatabaseCPUPerCallUS > 0
		if t.Watches == 0 {
			without, cpuWithout = append(without, t.Writes.Throughput), append(cpuWithout, t.Writes.ServerCPUPerCallUS+t.Writes.DatabaseCPUPerCallUS)
		} else {
			n = t.Watches
			with, cpuWith = append(with, t.Writes.Throughput), append(cpuWith, t.Writes.ServerCPUPerCallUS+t.Writes.DatabaseCPUPerCallUS)
		}
	}
	if len(without) > 0 && len(with) > 0 && median(without) > 0 {
		// Judged by the CPU per write where it is known: on a machine whose
		// cores the writers, the server and PostgreSQL share (and others
		// use), the writes per second of back-to-back runs move by tens of
		// percent, while throughput at saturation goes as the inverse of
		// the CPU each write costs.
		q := median(with) / median(without)
		rounds := fmt.Sprintf("%d rounds", len(with))
		if len(with) == 1 {
			rounds = "1 round"
		}
		value := fmt.Sprintf("writes/s, median of %s: %.0f vs %.0f (%+.1f%%)", rounds, median(with), median(without), (q-1)*100)
		if median(cpuWithout) > 0 && median(cpuWith) > 0 {
			c := median(cpuWith) / median(cpuWithout)
			whose := "server + PostgreSQL"
			if !withDB {
				whose = "server (PostgreSQL's unknown: no -pg-pid)"
			}
			value += fmt.Sprintf("; %s CPU per write %.0f vs %.0f µs (%+.1f%%), so %+.1f%% writes/s where CPU is the limit",
				whose, median(cpuWith), median(cpuWithout), (c-1)*100, (1/c-1)*100)
			q = 1 / c
		}
		rows = append(rows, row{fmt.Sprintf("write throughput with %s watches within 10%% of without", thousands(n)), value, yes(q >= 0.9)})
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "#### Targets (issue 12, item 7)\n\n| target | this run | met |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s |\n", r.target, r.value, r.met)
	}
	fmt.Fprintln(w)
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// thousands writes n with comma separators: 10,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
