package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// watchFlags configure the watch scenario (see runWatch).
type watchFlags struct {
	targetFlags
	debugURL            string
	seed                seedConfig
	watches             string
	perConn, parallel   int
	protocol            string
	rates               string
	duration, warmup    time.Duration
	settle, grace       time.Duration
	throughputWatches   int
	throughputDuration  time.Duration
	rounds, concurrency int
	connections         int
	jsonOut, profileDir string
	quiet               bool
}

// runWatch is the watch scenario, `tasks-bench watch`: for each number of
// watches, what an idle open watch costs the server (RSS, goroutines, heap
// and stacks, against the server with none), then how long a change takes
// to reach the watches while an open-loop writer commits changes at fixed
// rates to the watched users; then the write throughput of closed-loop
// writers with no watches and with some, back to back (BENCHMARKS.md,
// "Watch").
func runWatch(ctx context.Context, args []string) error {
	var f watchFlags
	fs := flag.NewFlagSet("tasks-bench watch", flag.ContinueOnError)
	f.targetFlags.register(fs)
	fs.StringVar(&f.debugURL, "debug-url", "", "with -url: the server's DEBUG_ADDR listener (http://host:port), for its goroutines")
	fs.IntVar(&f.seed.users, "users", 2000, "users; watches are spread over them round-robin")
	fs.IntVar(&f.seed.tasks, "tasks", 5, "tasks per user (updates pick among them)")
	fs.StringVar(&f.seed.prefix, "user-prefix", "bench", "user ids are PREFIX-user-00001, ...")
	fs.StringVar(&f.watches, "watches", "1000,10000", "comma-separated numbers of open watches, one phase each")
	fs.IntVar(&f.perConn, "streams-per-conn", 200, "watch streams per HTTP/2 connection (the server admits 250)")
	fs.IntVar(&f.parallel, "open-parallel", 100, "watches being opened at a time")
	fs.StringVar(&f.protocol, "protocol", "connect-proto", "protocol of watches and writers: "+strings.Join(protocols, ","))
	fs.StringVar(&f.rates, "rates", "250,500", "comma-separated open-loop write rates (per second) to the watched users, a run each in each phase")
	fs.DurationVar(&f.duration, "d", 10*time.Second, "measured duration of each write run")
	fs.DurationVar(&f.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each write run")
	fs.DurationVar(&f.settle, "settle", 3*time.Second, "wait after opening the watches before measuring them idle")
	fs.DurationVar(&f.grace, "grace", 5*time.Second, "longest wait for the last deliveries after the writes stop")
	fs.IntVar(&f.throughputWatches, "throughput-watches", 1000, "closed-loop write throughput with 0 and with this many watches (0: skip)")
	fs.DurationVar(&f.throughputDuration, "throughput-d", 5*time.Second, "measured duration of each throughput run")
	fs.IntVar(&f.rounds, "rounds", 2, "throughput rounds; their order alternates (0 then N, N then 0, ...)")
	fs.IntVar(&f.concurrency, "c", 32, "closed-loop writers")
	fs.IntVar(&f.connections, "connections", 32, "the writers' TCP connections")
	fs.StringVar(&f.jsonOut, "json", "", "write the report as JSON to this file")
	fs.StringVar(&f.profileDir, "profile-dir", "", "started server only: CPU and allocation profiles of each write run, heap and goroutine profiles of idle watches")
	fs.BoolVar(&f.quiet, "q", false, "no progress line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := f.targetFlags.check(); err != nil {
		return err
	}
	counts, err := parseCounts(f.watches)
	if err != nil {
		return fmt.Errorf("-watches: %w", err)
	}
	var rates []int
	if f.rates != "" && f.rates != "0" {
		if rates, err = parseCounts(f.rates); err != nil {
			return fmt.Errorf("-rates: %w", err)
		}
	}
	if _, err := protocolOptions(f.protocol); err != nil {
		return err
	}
	if f.seed.users < 1 || f.seed.tasks < 1 || f.perConn < 1 || f.parallel < 1 || f.concurrency < 1 || f.connections < 1 {
		return fmt.Errorf("-users, -tasks, -streams-per-conn, -open-parallel, -c and -connections must be positive")
	}
	most := slices.Max(append(counts, f.throughputWatches))
	if perUser := (most + f.seed.users - 1) / f.seed.users; perUser > maxSlots {
		return fmt.Errorf("%d watches over %d users is more than %d per user", most, f.seed.users, maxSlots)
	}
	// The server's defaults (WATCH_MAX 10,000, WATCH_MAX_PER_USER 16) are
	// what is measured; raise them only when the run needs more.
	if f.serverBin != "" {
		if most > 10_000 {
			f.serverEnv += ",WATCH_MAX=" + strconv.Itoa(most)
		}
		if perUser := (most + f.seed.users - 1) / f.seed.users; perUser > 16 {
			f.serverEnv += ",WATCH_MAX_PER_USER=" + strconv.Itoa(perUser)
		}
	}
	f.seed.concurrency = f.connections

	tg, err := f.targetFlags.start(ctx, true)
	if err != nil {
		return err
	}
	defer tg.close()
	probe := serverProbe{debugURL: f.debugURL}
	if tg.srv != nil {
		probe = serverProbe{pid: tg.srv.pid(), debugURL: tg.srv.debugURL}
	}
	writers, err := newPool(tg.baseURL, f.protocol, f.connections, false)
	if err != nil {
		return err
	}
	defer writers.close()
	start := time.Now()
	pop, err := seed(ctx, writers, tg.id, f.seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeded %d users in %.1fs\n", len(pop.regular), time.Since(start).Seconds())

	s := &watchSession{f: f, tg: tg, probe: probe, writers: writers, users: pop.regular, cursors: make([]string, len(pop.regular)), rates: rates}
	rep := WatchReport{Protocol: f.protocol, Users: len(pop.regular), StreamsPerConnection: f.perConn}
	// The baseline is the server at rest: seeding's garbage collected.
	if err := probe.collect(ctx, ""); err != nil && probe.debugURL != "" {
		fmt.Fprintln(os.Stderr, "collecting garbage:", err)
	}
	time.Sleep(f.settle)
	s.base = probe.state(ctx)
	rep.Baseline = s.base
	fmt.Fprintf(os.Stderr, "no watches: %s\n", rep.Baseline)
	for _, n := range counts {
		ph, err := s.phase(ctx, n)
		if err != nil {
			return err
		}
		rep.Phases = append(rep.Phases, ph)
	}
	for r := range f.rounds * min(f.throughputWatches, 1) {
		order := []int{0, f.throughputWatches}
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, n := range order {
			run, err := s.throughput(ctx, n, r+1)
			if err != nil {
				return err
			}
			rep.Throughput = append(rep.Throughput, run)
		}
	}
	fmt.Fprintln(os.Stderr)
	rep.writeText(os.Stdout)
	if f.jsonOut != "" {
		data, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(f.jsonOut, append(data, '\n'), 0o644)
	}
	return nil
}

// parseCounts reads "1000,10000".
func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list")
	}
	return out, nil
}
