package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"connectrpc.com/connect"
)

// fakeClock moves only when slept on; oversleep makes each sleep late by
// that much, like a scheduler on a busy machine.
type fakeClock struct {
	now       time.Time
	oversleep time.Duration
}

func (c *fakeClock) Now() time.Time        { return c.now }
func (c *fakeClock) Sleep(d time.Duration) { c.now = c.now.Add(d + c.oversleep) }

func TestScheduleSpacesIntendedTimesEvenly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		rate      float64
		duration  time.Duration
		oversleep time.Duration
		want      int
	}{
		{"on time", 1000, time.Second, 0, 1000},
		{"fractional period", 3, time.Second, 0, 3},
		{"late wake-ups", 2000, 500 * time.Millisecond, 3 * time.Millisecond, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Unix(1000, 0)
			clk := &fakeClock{now: start, oversleep: tc.oversleep}
			w := newWindow(start, 0, tc.duration)
			var intended, sent []time.Time
			n := schedule(context.Background(), clk, tc.rate, w, func(at time.Time) {
				intended = append(intended, at)
				sent = append(sent, clk.Now())
			})
			if n != tc.want || len(intended) != tc.want {
				t.Fatalf("fired %d (%d calls), want %d", n, len(intended), tc.want)
			}
			period := time.Duration(float64(time.Second) / tc.rate)
			for i, at := range intended {
				want := start.Add(time.Duration(float64(i) * float64(period)))
				if d := at.Sub(want); d < -time.Nanosecond || d > time.Nanosecond {
					t.Fatalf("call %d intended at %v, want %v", i, at.Sub(start), want.Sub(start))
				}
				if sent[i].Before(at) {
					t.Fatalf("call %d sent %v before its intended time", i, at.Sub(sent[i]))
				}
				if !at.Before(w.end) {
					t.Fatalf("call %d intended at %v, after the window", i, at.Sub(start))
				}
			}
			if tc.oversleep > 0 {
				// A late scheduler sends in bursts, but never fewer
				// calls: the stall shows as latency.
				burst := 0
				for i := 1; i < len(sent); i++ {
					if sent[i].Equal(sent[i-1]) {
						burst++
					}
				}
				if burst == 0 {
					t.Error("no call was sent late in a burst")
				}
			}
		})
	}
}

func TestScheduleStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Unix(0, 0)
	clk := &fakeClock{now: start}
	n := schedule(ctx, clk, 100, newWindow(start, 0, time.Hour), func(time.Time) {
		if clk.Now().Sub(start) >= time.Second {
			cancel()
		}
	})
	if n != 101 {
		t.Errorf("fired %d calls, want 101", n)
	}
}

func TestRecorder(t *testing.T) {
	t.Parallel()
	r := newRecorder()
	for i := 1; i <= 1000; i++ {
		r.record(time.Duration(i)*time.Millisecond/10, nil) // 0.1 ms .. 100 ms
	}
	r.record(time.Second, connect.NewError(connect.CodeUnavailable, errors.New("down")))
	r.record(time.Second, context.DeadlineExceeded)
	o := newRecorder()
	o.record(0, nil) // clamped to the histogram's 1µs floor
	r.merge(o)

	res := newResult("get", "grpc", r, 2*time.Second)
	if res.Requests != 1001 || res.Throughput != 500.5 {
		t.Errorf("requests %d, throughput %v; want 1001, 500.5", res.Requests, res.Throughput)
	}
	if got := res.Errors; got["unavailable"] != 1 || got["deadline_exceeded"] != 1 || res.ErrorCount() != 2 {
		t.Errorf("errors %v", got)
	}
	near := func(name string, got, want float64) {
		if got < want*0.99 || got > want*1.01 {
			t.Errorf("%s = %v ms, want about %v", name, got, want)
		}
	}
	near("p50", res.LatencyMS.P50, 50)
	near("p90", res.LatencyMS.P90, 90)
	near("p99", res.LatencyMS.P99, 99)
	near("max", res.LatencyMS.Max, 100)
	if res.SendLagMS != nil {
		t.Error("closed-loop result has a send lag")
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	status := "Name:\ttasksd\nVmPeak:\t 1900000 kB\nVmHWM:\t   61440 kB\nVmRSS:\t   40960 kB\nThreads:\t8\n"
	rss, hwm := parseStatus(status)
	if rss != 40960 || hwm != 61440 {
		t.Errorf("parseStatus = %d, %d; want 40960, 61440", rss, hwm)
	}
}

func TestCheckList(t *testing.T) {
	t.Parallel()
	if got, err := checkList("get, list,", scenarios); err != nil || len(got) != 2 || got[1] != "list" {
		t.Errorf("checkList = %v, %v", got, err)
	}
	if got, err := checkList("all", protocols); err != nil || len(got) != len(protocols) {
		t.Errorf("all = %v, %v", got, err)
	}
	for _, bad := range []string{"", "get,nope"} {
		if _, err := checkList(bad, scenarios); err == nil {
			t.Errorf("checkList(%q) succeeded", bad)
		}
	}
}

func TestMixWeightsAreSeventyThirty(t *testing.T) {
	t.Parallel()
	reads, total := 0, 0
	for _, w := range mixWeights {
		total += w.weight
		if w.scenario == "get" || w.scenario == "list" {
			reads += w.weight
		}
	}
	if reads*10 != total*7 {
		t.Errorf("reads are %d of %d", reads, total)
	}
}

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
	stat := "4242 (tasks d) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 9 0 100 0 0"
	own, reaped, err := parseStatCPU(stat)
	if err != nil || own != 3*time.Second || reaped != 0 {
		t.Errorf("parseStatCPU = %v, %v, %v; want 3s, 0", own, reaped, err)
	}
	if _, _, err := parseStatCPU("garbage"); err == nil {
		t.Error("parseStatCPU(garbage) succeeded")
	}
}
