// Command tasks-bench loads a tasks server through the generated client and
// reports throughput and latency percentiles (see BENCHMARKS.md).
//
//	tasks-bench run [flags]        seed users and tasks, run scenarios, report
//	tasks-bench watch [flags]      the watch scenario: open WatchTasks streams, measure them idle and under writes
//	tasks-bench attack [flags]     run one abusive client (slow bodies, floods, rapid reset, ...) against a server while another user calls it
//	tasks-bench crash [flags]      kill -9 the server again and again under writers, then check every acknowledged write
//	tasks-bench outage [flags]     restart, crash and stop PostgreSQL under writers, then check every acknowledged write
//	tasks-bench jwks -addr A -key F  serve the tool's JWKS, for a server started separately
//	tasks-bench markdown [flags]   render results as BENCHMARKS.md tables
//
// `run` starts tasksd itself (-server and -database-url), pointing its
// AUTH_JWKS_URL at a JWKS the tool serves, or targets a running server
// (-url) that was started with AUTH_JWKS_URL at `tasks-bench jwks` with the
// same -key file.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := dispatch(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tasks-bench:", err)
		}
		os.Exit(1)
	}
}

func dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: tasks-bench run|watch|attack|crash|outage|jwks|markdown [flags] (-h for each)")
	}
	switch args[0] {
	case "run":
		return runBench(ctx, args[1:])
	case "watch":
		return runWatch(ctx, args[1:])
	case "attack":
		return runAttack(ctx, args[1:])
	case "crash":
		return runCrash(ctx, args[1:])
	case "outage":
		return runOutage(ctx, args[1:])
	case "jwks":
		return runJWKS(ctx, args[1:])
	case "markdown":
		return runMarkdown(args[1:], os.Stdout)
	}
	return fmt.Errorf("unknown command %q (want run, watch, attack, crash, outage, jwks or markdown)", args[0])
}

func runJWKS(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tasks-bench jwks", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:7780", "address to serve the JWKS on")
	keyFile := fs.String("key", "bench.key", "Ed25519 key file (created when missing)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	id, err := loadIdentity(*keyFile)
	if err != nil {
		return err
	}
	ln, url, err := id.serveJWKS(*addr)
	if err != nil {
		return err
	}
	fmt.Println("JWKS at", url)
	<-ctx.Done()
	return ln.Close()
}

type runFlags struct {
	targetFlags
	scenarios, protocols     string
	concurrency, connections int
	rate                     float64
	duration, warmup, pause  time.Duration
	seed                     seedConfig
	http1                    bool
	jsonOut, profileDir      string
	h2loadDir                string
	hold                     bool
	quiet                    bool
}

func runBench(ctx context.Context, args []string) error {
	var f runFlags
	fs := flag.NewFlagSet("tasks-bench run", flag.ContinueOnError)
	f.targetFlags.register(fs)
	fs.StringVar(&f.scenarios, "scenarios", "get", "comma-separated: "+strings.Join(scenarios, ","))
	fs.StringVar(&f.protocols, "protocols", "connect-proto", "comma-separated: "+strings.Join(protocols, ","))
	fs.IntVar(&f.concurrency, "c", 32, "closed loop: concurrent workers")
	fs.IntVar(&f.connections, "connections", 32, "TCP connections to the server")
	fs.Float64Var(&f.rate, "rate", 0, "open loop: calls per second (0: closed loop)")
	fs.DurationVar(&f.duration, "d", 10*time.Second, "measured duration of each run")
	fs.DurationVar(&f.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each run")
	fs.DurationVar(&f.pause, "pause", time.Second, "idle time between runs")
	fs.IntVar(&f.seed.users, "users", 500, "regular users")
	fs.IntVar(&f.seed.tasks, "tasks", 60, "tasks per regular user (at least 51 for list and mix, so the first page is full)")
	fs.IntVar(&f.seed.deepUsers, "deep-users", 2, "users with enough tasks for page 100 (list-deep)")
	fs.IntVar(&f.seed.deepTasks, "deep-tasks", deepPage*pageSize+10, "tasks per deep user")
	fs.StringVar(&f.seed.prefix, "user-prefix", "bench", "user ids are PREFIX-user-00001, ...")
	fs.BoolVar(&f.http1, "http1", false, "use HTTP/1.1 instead of h2c (not for grpc)")
	fs.StringVar(&f.jsonOut, "json", "", "write the results as JSON to this file")
	fs.StringVar(&f.profileDir, "profile-dir", "", "started server only: capture CPU and allocation profiles of each run here")
	fs.StringVar(&f.h2loadDir, "h2load-dir", "", "write a token and request bodies for bench/h2load.sh here")
	fs.BoolVar(&f.hold, "hold", false, "after the runs, keep the server and JWKS up until interrupted (for h2load)")
	fs.BoolVar(&f.quiet, "q", false, "no progress line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := f.targetFlags.check(); err != nil {
		return err
	}
	scen, err := checkList(f.scenarios, scenarios)
	if err != nil {
		return err
	}
	if f.seed.tasks < 1 || (f.seed.tasks < pageSize+1 && (slices.Contains(scen, "list") || slices.Contains(scen, "mix"))) {
		return fmt.Errorf("-tasks must be at least %d for list and mix (1 otherwise)", pageSize+1)
	}
	if f.seed.deepUsers > 0 && f.seed.deepTasks < deepPage*pageSize {
		return fmt.Errorf("-deep-tasks must be at least %d", deepPage*pageSize)
	}
	protos, err := checkList(f.protocols, protocols)
	if err != nil {
		return err
	}
	f.seed.concurrency = f.connections

	tg, err := f.targetFlags.start(ctx, f.profileDir != "")
	if err != nil {
		return err
	}
	defer tg.close()
	baseURL, srv, mem := tg.baseURL, tg.srv, tg.mem

	seedPool, err := newPool(baseURL, "connect-proto", f.connections, f.http1)
	if err != nil {
		return err
	}
	start := time.Now()
	pop, err := seed(ctx, seedPool, tg.id, f.seed)
	seedPool.close()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeded %d users (+%d deep) in %.1fs\n", len(pop.regular), len(pop.deep), time.Since(start).Seconds())
	if f.h2loadDir != "" {
		if err := writeH2loadFiles(f.h2loadDir, pop); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(f.h2loadDir, "url"), []byte(baseURL), 0o644); err != nil {
			return err
		}
		if srv != nil {
			if err := os.WriteFile(filepath.Join(f.h2loadDir, "pid"), []byte(fmt.Sprint(srv.pid())), 0o644); err != nil {
				return err
			}
		}
	}

	var results []Result
	for _, proto := range protos {
		for _, sc := range scen {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			time.Sleep(f.pause)
			r, err := runOne(ctx, f, baseURL, proto, sc, pop, mem, srv)
			if err != nil {
				return err
			}
			results = append(results, r)
		}
	}
	fmt.Fprintln(os.Stderr)
	writeText(os.Stdout, results)
	if f.jsonOut != "" {
		data, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(f.jsonOut, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	if f.hold {
		fmt.Fprintln(os.Stderr, "holding the server; interrupt to stop")
		if f.h2loadDir != "" {
			// The signal that the server is ready for h2load.
			if err := os.WriteFile(filepath.Join(f.h2loadDir, "ready"), nil, 0o644); err != nil {
				return err
			}
		}
		<-ctx.Done()
	}
	return nil
}

// runOne runs one scenario over one protocol on fresh connections.
func runOne(ctx context.Context, f runFlags, baseURL, proto, sc string, pop *population, mem *memSampler, srv *server) (Result, error) {
	c, err := newCall(sc, pop)
	if err != nil {
		return Result{}, err
	}
	p, err := newPool(baseURL, proto, f.connections, f.http1)
	if err != nil {
		return Result{}, err
	}
	defer p.close()
	if mem != nil {
		mem.reset()
	}
	label := sc + "/" + proto
	var cnt counters
	w := newWindow(time.Now(), f.warmup, f.duration)
	stopProgress := progress(label, w, &cnt, f.quiet)
	stopProfiles := func() error { return nil }
	if srv != nil && srv.debugURL != "" {
		stopProfiles = captureProfiles(ctx, srv.debugURL, f.profileDir, sc+"-"+proto, w)
	}
	cpu := newCPUMeter(srv, f.pgPID)
	cpuTimer := time.AfterFunc(time.Until(w.measure), cpu.start)
	var rec *recorder
	if f.rate > 0 {
		rec = openLoop(ctx, p, c, f.rate, w, &cnt)
	} else {
		rec = closedLoop(ctx, p, c, f.concurrency, w, &cnt)
	}
	stopProgress()
	if err := stopProfiles(); err != nil {
		fmt.Fprintln(os.Stderr, "profiles:", err)
	}
	r := newResult(sc, proto, rec, f.duration)
	r.Connections = f.connections
	if f.rate > 0 {
		r.Mode, r.Rate = "open", f.rate
	} else {
		r.Mode, r.Concurrency = "closed", f.concurrency
	}
	if mem != nil {
		r.ServerRSSMiB, r.ServerHWMMiB = mem.peaks()
	}
	if !cpuTimer.Stop() && r.Requests > 0 {
		r.ServerCPUPerCallUS, r.ClientCPUPerCallUS, r.DatabaseCPUPerCallUS = cpu.perCall(r.Requests)
	}
	return r, nil
}

// progress prints a line a second until the returned func is called.
func progress(label string, w window, cnt *counters, quiet bool) func() {
	if quiet {
		return func() {}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var last int64
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				ok := cnt.ok.Load()
				fmt.Fprintf(os.Stderr, "\r%s\x1b[K", progressLine(label, w, now, ok, ok-last, cnt.failed.Load()))
				last = ok
			}
		}
	})
	return func() { close(stop); wg.Wait() }
}

func progressLine(label string, w window, now time.Time, ok, lastSecond, failed int64) string {
	phase := "measuring"
	elapsed := now.Sub(w.measure)
	if now.Before(w.measure) {
		phase, elapsed = "warming up", now.Sub(w.start)
	}
	return fmt.Sprintf("%-28s %-10s %5.1fs/%.0fs  %8d ok  %7d/s  %d errors",
		label, phase, elapsed.Seconds(), w.end.Sub(w.measure).Seconds(), ok, lastSecond, failed)
}

// splitEnv splits "A=1,B=2" into environment entries.
func splitEnv(s string) []string {
	var out []string
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			out = append(out, kv)
		}
	}
	return out
}

// checkList splits a comma-separated list and checks each item is known.
func checkList(s string, known []string) ([]string, error) {
	var out []string
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if item == "all" {
			return known, nil
		}
		ok := false
		for _, k := range known {
			ok = ok || k == item
		}
		if !ok {
			return nil, fmt.Errorf("unknown %q (want one of %s)", item, strings.Join(known, ", "))
		}
		out = append(out, item)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}
