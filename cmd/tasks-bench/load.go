package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds, from 1µs to a minute, to three
// significant digits.
const (
	histMin     = 1
	histMax     = 60_000_000
	histSigFigs = 3
)

func newHistogram() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, histSigFigs) }

// recorder collects the outcome of calls. Closed-loop workers have one each
// (merged at the end); the open loop's goroutines share one, hence the lock.
type recorder struct {
	mu      sync.Mutex
	latency *hdrhistogram.Histogram
	lag     *hdrhistogram.Histogram // open loop: actual send time minus intended
	errors  map[string]int64        // by Connect code
}

func newRecorder() *recorder {
	return &recorder{latency: newHistogram(), lag: newHistogram(), errors: map[string]int64{}}
}

func (r *recorder) record(latency time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errors[errorCode(err)]++
		return
	}
	_ = r.latency.RecordValue(max(latency.Microseconds(), histMin))
}

func (r *recorder) recordLag(lag time.Duration) {
	r.mu.Lock()
	_ = r.lag.RecordValue(max(lag.Microseconds(), histMin))
	r.mu.Unlock()
}

func (r *recorder) merge(o *recorder) {
	r.latency.Merge(o.latency)
	r.lag.Merge(o.lag)
	for k, v := range o.errors {
		r.errors[k] += v
	}
}

func errorCode(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "deadline_exceeded"
	}
	var cerr *connect.Error
	if errors.As(err, &cerr) {
		return cerr.Code().String()
	}
	return "unknown"
}

// counters feed the progress line.
type counters struct {
	ok, failed atomic.Int64
}

func (c *counters) count(err error) {
	if err != nil {
		c.failed.Add(1)
	} else {
		c.ok.Add(1)
	}
}

// window is a run's timing: calls made before measure are warm-up and not
// recorded; none start at or after end.
type window struct {
	start, measure, end time.Time
}

func newWindow(now time.Time, warmup, duration time.Duration) window {
	return window{start: now, measure: now.Add(warmup), end: now.Add(warmup + duration)}
}

// closedLoop runs workers goroutines, each calling as soon as its previous
// call returns, on its own connection of p (worker i on connection i mod
// the pool size).
func closedLoop(ctx context.Context, p *pool, c call, workers int, w window, cnt *counters) *recorder {
	recs := make([]*recorder, workers)
	var wg sync.WaitGroup
	for i := range workers {
		recs[i] = newRecorder()
		cl := p.client(i)
		rng := rand.New(rand.NewPCG(uint64(i), uint64(w.start.UnixNano())))
		wg.Go(func() {
			for {
				start := time.Now()
				if !start.Before(w.end) || ctx.Err() != nil {
					return
				}
				err := c(ctx, cl, rng)
				if start.Before(w.measure) {
					continue
				}
				cnt.count(err)
				recs[i].record(time.Since(start), err)
			}
		})
	}
	wg.Wait()
	out := newRecorder()
	for _, r := range recs {
		out.merge(r)
	}
	return out
}

// clock is what the open-loop scheduler needs of time; tests fake it.
type clock interface {
	Now() time.Time
	Sleep(time.Duration)
}

type realClock struct{}

func (realClock) Now() time.Time        { return time.Now() }
func (realClock) Sleep(d time.Duration) { time.Sleep(d) }

// schedule calls fire with the intended send time of each call of a
// fixed-rate run from w.start until w.end: start + i/rate for i = 0, 1,
// ... The intended times never move. When the scheduler wakes late (or
// fire is slow), the calls that are due are fired at once, still with
// their intended times, so a stall shows up as latency rather than as
// calls that were never made (no coordinated omission). It returns how
// many calls it fired.
func schedule(ctx context.Context, clk clock, rate float64, w window, fire func(intended time.Time)) int {
	period := float64(time.Second) / rate
	n := 0
	for ; ctx.Err() == nil; n++ {
		intended := w.start.Add(time.Duration(float64(n) * period))
		if !intended.Before(w.end) {
			break
		}
		if d := intended.Sub(clk.Now()); d > 0 {
			clk.Sleep(d)
		}
		fire(intended)
	}
	return n
}

// openLoop sends calls at a fixed rate, each in its own goroutine on the
// next connection of p, and measures each from its intended send time.
func openLoop(ctx context.Context, p *pool, c call, rate float64, w window, cnt *counters) *recorder {
	rec := newRecorder()
	var wg sync.WaitGroup
	var seq atomic.Uint64
	schedule(ctx, realClock{}, rate, w, func(intended time.Time) {
		measured := !intended.Before(w.measure)
		cl := p.any()
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seq.Add(1), uint64(intended.UnixNano())))
			sent := time.Now()
			err := c(ctx, cl, rng)
			if !measured {
				return
			}
			cnt.count(err)
			rec.record(time.Since(intended), err)
			rec.recordLag(sent.Sub(intended))
		})
	})
	wg.Wait()
	return rec
}
