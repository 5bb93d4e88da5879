package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// CeilingResult is one line of bench/ceiling.sh's output.
type CeilingResult struct {
	Name string `json:"name"`
	// Mode is pgbench's -M: "simple" (the store's SQL today, and every
	// line written before the field was) or "prepared".
	Mode      string  `json:"mode"`
	Clients   int     `json:"clients"`
	DurationS float64 `json:"duration_s"`
	TPS       float64 `json:"tps"`
	Failed    int64   `json:"failed"`
	LatencyMS struct {
		Mean, P50, P90, P99 float64
		P999                float64 `json:"p99_9"`
	} `json:"latency_ms"`
}

// H2loadResult is one line of bench/h2load.sh's output.
type H2loadResult struct {
	Name         string  `json:"name"`
	Procedure    string  `json:"procedure"`
	Clients      int     `json:"clients"`
	RPS          float64 `json:"rps"`
	Requests     int64   `json:"requests"`
	OK           int64   `json:"ok_2xx"`
	Mean         string  `json:"mean"`
	Max          string  `json:"max"`
	ServerHWMMiB float64 `json:"server_hwm_mib"`
}

// report is everything one `make bench` measured.
type report struct {
	Title   string
	Machine string // preformatted lines: machine, versions, load
	API     []Result
	Open    []Result
	Ceiling []CeilingResult
	H2load  []H2loadResult
	Watch   *WatchReport
}

// ceilingFor names the pgbench script whose statements a scenario's calls
// send, or "" when there is none.
func ceilingFor(scenario string) string {
	switch scenario {
	case "get":
		return "get"
	case "create":
		return "insert"
	case "list":
		return "list"
	}
	// The deep-list users hold thousands of tasks, which the count of a
	// page reads; the ceiling's list users hold as many as the list
	// scenario's.
	return ""
}

// bestCeilings pairs each ceiling of the store's SQL with the cheapest SQL
// for the same answer.
var bestCeilings = []struct{ store, best string }{
	{"get", "get-best"}, {"list", "list-best"}, {"insert", "insert-best"},
}

func (r report) ceiling(name string) (CeilingResult, bool) {
	for _, c := range r.Ceiling {
		if c.Name == name {
			return c, true
		}
	}
	return CeilingResult{}, false
}

func (r report) ratio(scenario string, rps float64) string {
	c, ok := r.ceiling(ceilingFor(scenario))
	if !ok || c.TPS == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", rps/c.TPS)
}

// markdown renders the report: machine, ceiling, h2load, one table per
// scenario (a row per protocol, each with its ratio to the ceiling), the
// open-loop runs and the targets.
func (r report) markdown(w io.Writer) {
	fmt.Fprintf(w, "### %s\n\n", r.Title)
	if r.Machine != "" {
		fmt.Fprintf(w, "```\n%s\n```\n\n", strings.TrimRight(r.Machine, "\n"))
	}
	if len(r.Ceiling) > 0 {
		fmt.Fprintf(w, "#### Ceiling: pgbench straight to PostgreSQL, the store's statements and (`-best`) the cheapest SQL for the same answer\n\n")
		fmt.Fprintf(w, "| script | mode | clients | tx/s | mean ms | p50 ms | p99 ms | p99.9 ms | failed |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, c := range r.Ceiling {
			fmt.Fprintf(w, "| %s | %s | %d | %.0f | %.2f | %.2f | %.2f | %.2f | %d |\n",
				c.Name, cmp.Or(c.Mode, "simple"), c.Clients, c.TPS, c.LatencyMS.Mean, c.LatencyMS.P50, c.LatencyMS.P99, c.LatencyMS.P999, c.Failed)
		}
		fmt.Fprintln(w)
		if line := r.storeVsBest(); line != "" {
			fmt.Fprintf(w, "%s\n\n", line)
		}
	}
	if len(r.H2load) > 0 {
		fmt.Fprintf(w, "#### h2load: the Connect protocol over h2c, one user's token\n\n")
		fmt.Fprintf(w, "| call | connections | req/s | 2xx of total | mean | max | vs ceiling | server VmHWM MiB |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, h := range r.H2load {
			scenario := map[string]string{"GetTask": "get", "ListTasks": "list", "CreateTask": "create"}[h.Procedure]
			fmt.Fprintf(w, "| %s | %d | %.0f | %d / %d | %s | %s | %s | %.0f |\n",
				h.Name, h.Clients, h.RPS, h.OK, h.Requests, h.Mean, h.Max, r.ratio(scenario, h.RPS), h.ServerHWMMiB)
		}
		fmt.Fprintln(w)
	}
	var order []string
	for _, a := range r.API {
		if !slices.Contains(order, a.Scenario) {
			order = append(order, a.Scenario)
		}
	}
	for _, sc := range order {
		fmt.Fprintf(w, "#### %s (tasks-bench, closed loop)\n\n", sc)
		fmt.Fprintf(w, "| protocol | load | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors | vs ceiling | RSS MiB | CPU µs/call: server / client / PostgreSQL |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, a := range r.API {
			if a.Scenario == sc {
				writeRow(w, a, r.ratio(sc, a.Throughput))
			}
		}
		fmt.Fprintln(w)
	}
	if len(r.Open) > 0 {
		fmt.Fprintf(w, "#### Open loop (fixed rate, latency from the intended send time)\n\n")
		fmt.Fprintf(w, "| scenario | protocol | rate | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors | client send lag p99 ms | RSS MiB |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, o := range r.Open {
			lag := "–"
			if o.SendLagMS != nil {
				lag = fmt.Sprintf("%.2f", o.SendLagMS.P99)
			}
			fmt.Fprintf(w, "| %s | %s | %g/s | %.0f | %.2f | %.2f | %.2f | %.2f | %d | %s | %.0f |\n",
				o.Scenario, o.Protocol, o.Rate, o.Throughput, o.LatencyMS.P50, o.LatencyMS.P90, o.LatencyMS.P99, o.LatencyMS.P999,
				o.ErrorCount(), lag, o.ServerRSSMiB)
		}
		fmt.Fprintln(w)
	}
	r.targets(w)
	if r.Watch != nil {
		r.Watch.markdown(w)
	}
}

// storeVsBest says how close the store's SQL comes to the cheapest SQL for
// the same answer, or "" when the run has no pair of ceilings.
func (r report) storeVsBest() string {
	var parts []string
	for _, p := range bestCeilings {
		store, ok := r.ceiling(p.store)
		best, found := r.ceiling(p.best)
		if ok && found && best.TPS > 0 {
			parts = append(parts, fmt.Sprintf("%s %.2f (%.0f vs %.0f tx/s)", p.store, store.TPS/best.TPS, store.TPS, best.TPS))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "The store's SQL against the cheapest: " + strings.Join(parts, ", ") + "."
}

func writeRow(w io.Writer, a Result, ratio string) {
	fmt.Fprintf(w, "| %s | %s | %.0f | %.2f | %.2f | %.2f | %.2f | %d | %s | %.0f | %.0f / %.0f / %.0f |\n",
		a.Protocol, a.load(), a.Throughput, a.LatencyMS.P50, a.LatencyMS.P90, a.LatencyMS.P99, a.LatencyMS.P999,
		a.ErrorCount(), ratio, a.ServerRSSMiB, a.ServerCPUPerCallUS, a.ClientCPUPerCallUS, a.DatabaseCPUPerCallUS)
}

// Markers delimit the part of BENCHMARKS.md that `make bench` rewrites.
const (
	beginMarker = "<!-- bench:begin (written by make bench; edits here are lost) -->"
	endMarker   = "<!-- bench:end -->"
)

// splice replaces what lies between the markers in doc with section, or
// appends the markers and section when doc has none.
func splice(doc, section []byte) []byte {
	block := []byte(beginMarker + "\n\n" + strings.TrimSpace(string(section)) + "\n\n" + endMarker)
	i := bytes.Index(doc, []byte(beginMarker))
	j := bytes.Index(doc, []byte(endMarker))
	if i < 0 || j < i {
		out := bytes.TrimRight(doc, "\n")
		if len(out) > 0 {
			out = append(out, "\n\n"...)
		}
		return append(append(out, block...), '\n')
	}
	return slices.Concat(doc[:i], block, doc[j+len(endMarker):])
}

func runMarkdown(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tasks-bench markdown", flag.ContinueOnError)
	apiFile := fs.String("api", "", "tasks-bench run -json output (closed loop)")
	openFile := fs.String("open", "", "tasks-bench run -json output (open loop)")
	watchFile := fs.String("watch", "", "tasks-bench watch -json output")
	ceilingFile := fs.String("ceiling", "", "bench/ceiling.sh output")
	h2loadFile := fs.String("h2load", "", "bench/h2load.sh output")
	machineFile := fs.String("machine", "", "text describing the machine and versions")
	title := fs.String("title", "Latest run", "heading of the section")
	into := fs.String("into", "", "splice the section into this file between the bench markers, instead of printing it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	r := report{Title: *title}
	if *machineFile != "" {
		data, err := os.ReadFile(*machineFile)
		if err != nil {
			return err
		}
		r.Machine = string(data)
	}
	for _, in := range []struct {
		file string
		dst  any
	}{{*apiFile, &r.API}, {*openFile, &r.Open}, {*watchFile, &r.Watch}} {
		if in.file == "" {
			continue
		}
		data, err := os.ReadFile(in.file)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, in.dst); err != nil {
			return fmt.Errorf("%s: %w", in.file, err)
		}
	}
	if err := readLines(*ceilingFile, &r.Ceiling); err != nil {
		return err
	}
	if err := readLines(*h2loadFile, &r.H2load); err != nil {
		return err
	}
	var buf bytes.Buffer
	r.markdown(&buf)
	if *into == "" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	doc, err := os.ReadFile(*into)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(*into, splice(doc, buf.Bytes()), 0o644)
}

// readLines decodes a file of JSON objects, one a line, into dst.
func readLines[T any](file string, dst *[]T) error {
	if file == "" {
		return nil
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || !strings.HasPrefix(line, "{") {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		*dst = append(*dst, v)
	}
	return sc.Err()
}
