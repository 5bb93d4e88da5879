package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// watchSession is the state one `tasks-bench watch` carries between its
// runs: the users, and the cursor each has caught up to.
type watchSession struct {
	f       watchFlags
	tg      *target
	probe   serverProbe
	writers *pool
	users   []*user
	cursors []string
	base    ServerState // the server with no watches open
	rates   []int       // of the open-loop writers
}

// watched is the users n watches are spread over.
func (s *watchSession) watched(n int) []*user { return s.users[:min(max(n, 1), len(s.users))] }

// open catches the users of n watches up and opens the watches.
func (s *watchSession) open(ctx context.Context, n int) (*watchSet, error) {
	users := s.watched(n)
	if err := catchUp(ctx, s.writers, users, s.cursors, s.f.connections); err != nil {
		return nil, err
	}
	return openWatches(ctx, s.tg.baseURL, s.f.protocol, users, s.cursors, n, s.f.perConn, s.f.parallel)
}

// closeWatches closes ws and waits (up to 30 s) until the server's
// goroutines are back near the baseline, so the next run starts clean.
func (s *watchSession) closeWatches(ctx context.Context, ws *watchSet) {
	ws.closeAll()
	if s.base.Goroutines > 0 {
		s.probe.waitGoroutines(ctx, s.base.Goroutines+50, 30*time.Second)
	}
}

// phase opens n watches, measures them idle, then under the open-loop
// writer at each rate, and closes them.
func (s *watchSession) phase(ctx context.Context, n int) (WatchPhase, error) {
	users := s.watched(n)
	if s.tg.mem != nil {
		s.tg.mem.reset()
	}
	start := time.Now()
	ws, err := s.open(ctx, n)
	if err != nil {
		return WatchPhase{}, err
	}
	ph := WatchPhase{Watches: n, Connections: ws.conns, OpenS: time.Since(start).Seconds()}
	if s.tg.mem != nil {
		ph.OpenPeakRSSMiB, _ = s.tg.mem.peaks()
	}
	time.Sleep(s.f.settle)
	ph.Idle = s.probe.state(ctx)
	ph.IdlePerWatch = perWatch(ph.Idle, s.base, n)
	ph.OpenErrors, _ = ws.errors()
	fmt.Fprintf(os.Stderr, "%d idle watches (%d connections, opened in %.1fs): %s\n", n, ws.conns, ph.OpenS, ph.Idle)
	if s.probe.debugURL != "" {
		// Open watches live for up to 30 minutes, through many collections;
		// one collection shows what they hold then (and shrinks the stacks
		// of goroutines that use little of theirs).
		if err := s.probe.collect(ctx, s.profileFile(fmt.Sprintf("watch-%d-idle", n), "heap")); err != nil {
			fmt.Fprintln(os.Stderr, "collecting garbage:", err)
		}
		time.Sleep(s.f.settle)
		ph.AfterGC = s.probe.state(ctx)
		ph.AfterGCPerWatch = perWatch(ph.AfterGC, s.base, n)
		fmt.Fprintf(os.Stderr, "  after a collection: %s\n", ph.AfterGC)
		if s.f.profileDir != "" {
			s.saveProfiles(ctx, fmt.Sprintf("watch-%d-idle", n), "goroutine")
		}
	}
	for _, rate := range s.rates {
		run := s.writeRun(ctx, fmt.Sprintf("watch-%d-%d-per-s", n, rate), users, n, ws, func(w window, c call, cnt *counters) *recorder {
			return openLoop(ctx, s.writers, c, float64(rate), w, cnt)
		}, s.f.duration)
		run.Writes.Mode, run.Writes.Rate = "open", float64(rate)
		ph.Deliveries = append(ph.Deliveries, run)
	}
	s.closeWatches(ctx, ws)
	return ph, nil
}

// throughput runs the closed-loop writers against the users of the
// throughput comparison, with n watches of them open (n may be 0).
func (s *watchSession) throughput(ctx context.Context, n, round int) (WriteRun, error) {
	users := s.watched(s.f.throughputWatches)
	var ws *watchSet
	if n > 0 {
		var err error
		if ws, err = s.open(ctx, n); err != nil {
			return WriteRun{}, err
		}
		time.Sleep(time.Second)
	}
	run := s.writeRun(ctx, fmt.Sprintf("throughput-%d-watches-round-%d", n, round), users, n, ws, func(w window, c call, cnt *counters) *recorder {
		return closedLoop(ctx, s.writers, c, s.f.concurrency, w, cnt)
	}, s.f.throughputDuration)
	run.Round = round
	run.Writes.Mode, run.Writes.Concurrency = "closed", s.f.concurrency
	if ws != nil {
		s.closeWatches(ctx, ws)
	}
	time.Sleep(time.Second) // a pause between back-to-back runs
	return run, nil
}

// writeRun runs writers (loop: open or closed) against users while ws (n
// watches, or nil) is open, then waits for the last deliveries, and
// reports the writes (latency, CPU per write of server, client and
// PostgreSQL) and the deliveries.
func (s *watchSession) writeRun(ctx context.Context, label string, users []*user, n int, ws *watchSet,
	loop func(window, call, *counters) *recorder, duration time.Duration) WriteRun {
	if s.tg.mem != nil {
		s.tg.mem.reset()
	}
	w := newWindow(time.Now(), s.f.warmup, duration)
	var cnt counters
	stopProgress := progress(label, w, &cnt, s.f.quiet)
	stopProfiles := func() error { return nil }
	if s.f.profileDir != "" && s.tg.srv != nil {
		stopProfiles = captureProfiles(ctx, s.probe.debugURL, s.f.profileDir, label, w)
	}
	cpu := newCPUMeter(s.tg.srv, s.f.pgPID)
	cpuTimer := time.AfterFunc(time.Until(w.measure), cpu.start)
	var tr *deliveries
	if ws != nil {
		tr = newDeliveries(watchesPer(n, len(users)))
		ws.track(tr)
		defer ws.track(nil)
	}
	rec := loop(w, writeCall(users, tr, w.measure), &cnt)
	stopProgress()
	if tr != nil {
		tr.drain(s.f.grace, 10*time.Millisecond)
	}
	run := WriteRun{Watches: n, Writes: newResult("watch-writes", s.f.protocol, rec, duration)}
	run.Writes.Connections = s.f.connections
	if !cpuTimer.Stop() && run.Writes.Requests > 0 {
		run.Writes.ServerCPUPerCallUS, run.Writes.ClientCPUPerCallUS, run.Writes.DatabaseCPUPerCallUS = cpu.perCall(run.Writes.Requests)
	}
	if err := stopProfiles(); err != nil {
		fmt.Fprintln(os.Stderr, "profiles:", err)
	}
	if s.tg.mem != nil {
		run.Writes.ServerRSSMiB, run.Writes.ServerHWMMiB = s.tg.mem.peaks()
	}
	run.End = s.probe.state(ctx)
	if tr != nil {
		d := tr.summary()
		run.Delivery = &d
		_, run.WatchErrors = ws.errors()
		run.Heartbeats = ws.heartbeats.Load()
	}
	fmt.Fprintf(os.Stderr, "\r%s\x1b[K\n", run.summaryLine(label))
	return run
}

// profileFile is where a profile of kind is saved, or "" without
// -profile-dir.
func (s *watchSession) profileFile(name, kind string) string {
	if s.f.profileDir == "" {
		return ""
	}
	if err := os.MkdirAll(s.f.profileDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "profiles:", err)
		return ""
	}
	return filepath.Join(s.f.profileDir, name+"."+kind+".pprof")
}

// saveProfiles saves the server's named profiles (heap, goroutine) as
// NAME.KIND.pprof in the profile directory.
func (s *watchSession) saveProfiles(ctx context.Context, name string, kinds ...string) {
	for _, k := range kinds {
		if file := s.profileFile(name, k); file != "" {
			if err := download(ctx, s.probe.debugURL+"/debug/pprof/"+k, file); err != nil {
				fmt.Fprintln(os.Stderr, "profiles:", err)
			}
		}
	}
}
