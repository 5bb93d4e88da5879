package attack

import (
	"context"
	"maps"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/HdrHistogram/hdrhistogram-go"
)

// Summary is what happened to a stream of calls.
type Summary struct {
	Calls int
	OK    int
	// Codes counts the failed calls by Connect code ("unavailable", ...).
	Codes map[string]int
	// Latency of the calls that succeeded.
	P50, P99, Max time.Duration
}

// SuccessRate is the share of calls that succeeded, 1 with no calls.
func (s Summary) SuccessRate() float64 {
	if s.Calls == 0 {
		return 1
	}
	return float64(s.OK) / float64(s.Calls)
}

// Calls runs call in a loop on each of workers goroutines until ctx ends,
// and summarizes the outcomes. A call cut short by ctx ending is not
// counted: it says nothing about the server.
func Calls(ctx context.Context, workers int, call func(context.Context) error) Summary {
	t := newTally()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				t.call(ctx, call)
			}
		})
	}
	wg.Wait()
	return t.summary()
}

// CallsAt starts perSecond calls a second (up to a million), each on its
// own goroutine whatever became of the others (as independent users
// would), until ctx ends, and summarizes them as Calls does.
func CallsAt(ctx context.Context, perSecond float64, call func(context.Context) error) Summary {
	t := newTally()
	if perSecond <= 0 || perSecond > 1e6 {
		return t.summary()
	}
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Duration(float64(time.Second) / perSecond))
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
			wg.Go(func() { t.call(ctx, call) })
		}
	}
	wg.Wait()
	return t.summary()
}

// tally collects outcomes of calls.
type tally struct {
	mu    sync.Mutex
	hist  *hdrhistogram.Histogram
	codes map[string]int
	total int
}

func newTally() *tally {
	return &tally{hist: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3), codes: map[string]int{}}
}

// call makes one call and records it, unless ctx ended meanwhile.
func (t *tally) call(ctx context.Context, call func(context.Context) error) {
	start := time.Now()
	err := call(ctx)
	took := time.Since(start)
	if ctx.Err() != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total++
	if err == nil {
		_ = t.hist.RecordValue(max(1, took.Microseconds()))
	} else {
		t.codes[connect.CodeOf(err).String()]++
	}
}

func (t *tally) summary() Summary {
	t.mu.Lock()
	defer t.mu.Unlock()
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return Summary{
		Calls: t.total,
		OK:    int(t.hist.TotalCount()),
		Codes: maps.Clone(t.codes),
		P50:   us(t.hist.ValueAtQuantile(50)),
		P99:   us(t.hist.ValueAtQuantile(99)),
		Max:   us(t.hist.Max()),
	}
}
