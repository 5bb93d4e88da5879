package main

import (
	"testing"
	"time"
)

// at is a moment of a test, in milliseconds from sampleTime.
func at(ms int) time.Time { return sampleTime.Add(time.Duration(ms) * time.Millisecond) }

func mustNear(tb testing.TB, name string, got, want float64) {
	tb.Helper()
	if got < want*0.99-0.002 || got > want*1.01+0.002 {
		tb.Errorf("%s = %v, want about %v", name, got, want)
	}
}

func TestDeliveriesMatchWritesByTaskAndEtag(t *testing.T) {
	t.Parallel()
	d := newDeliveries(func(int) int { return 1 })
	k := deliveryKey{"t1", "v2"}
	d.wrote(k, 0, at(0), at(10), true)
	if d.outstanding() != 1 {
		t.Fatalf("outstanding = %d, want 1", d.outstanding())
	}
	d.delivered(0, deliveryKey{"t1", "v1"}, at(12)) // an older state: not this write
	d.delivered(0, k, at(15))
	if d.outstanding() != 0 {
		t.Errorf("outstanding = %d, want 0", d.outstanding())
	}
	s := d.summary()
	if s.Expected != 1 || s.Delivered != 1 || s.Missing != 0 || s.Unmatched != 1 || s.BeforeAnswer != 0 {
		t.Errorf("summary = %+v", s)
	}
	mustNear(t, "delay from answer", s.FromAnswerMS.P50, 5)
	mustNear(t, "delay from send", s.FromSendMS.P50, 15)
}

func TestDeliveriesBeforeTheAnswer(t *testing.T) {
	t.Parallel()
	d := newDeliveries(func(int) int { return 1 })
	k := deliveryKey{"t1", "v1"}
	// The watch hears of a create before its writer has the answer: the
	// delivery waits for the write to be reported.
	d.delivered(0, k, at(8))
	d.wrote(k, 0, at(0), at(10), true)
	s := d.summary()
	if s.Delivered != 1 || s.BeforeAnswer != 1 || s.Unmatched != 0 || s.Missing != 0 {
		t.Errorf("summary = %+v", s)
	}
	mustNear(t, "delay from answer", s.FromAnswerMS.Max, 0.001) // clamped to the histogram's floor
	mustNear(t, "delay from send", s.FromSendMS.Max, 8)
}

func TestDeliveriesToSeveralWatchesOfAUser(t *testing.T) {
	t.Parallel()
	d := newDeliveries(watchesPer(5, 2)) // user 0 has 3 watches, user 1 has 2
	k := deliveryKey{"t1", "v1"}
	d.wrote(k, 0, at(0), at(10), true)
	d.delivered(0, k, at(11))
	d.delivered(2, k, at(13))
	d.delivered(2, k, at(14)) // the same change twice to one watch
	d.delivered(3, k, at(14)) // no such watch of user 0
	s := d.summary()
	if s.Expected != 3 || s.Delivered != 2 || s.Missing != 1 || s.Duplicates != 1 || s.Unmatched != 1 {
		t.Errorf("summary = %+v", s)
	}
	if d.outstanding() != 1 {
		t.Errorf("outstanding = %d, want 1", d.outstanding())
	}
}

func TestDeliveriesOfWarmUpWritesAreNotMeasured(t *testing.T) {
	t.Parallel()
	d := newDeliveries(func(int) int { return 1 })
	k := deliveryKey{"t1", "v1"}
	d.wrote(k, 0, at(0), at(10), false)
	d.delivered(0, k, at(500))
	s := d.summary()
	if s.Expected != 0 || s.Delivered != 0 || s.Missing != 0 || s.Unmatched != 0 || s.FromAnswerMS.Max != 0 {
		t.Errorf("summary = %+v", s)
	}
}

func TestDeliveriesSuperseded(t *testing.T) {
	t.Parallel()
	first, second := deliveryKey{"t1", "v2"}, deliveryKey{"t1", "v3"}
	for _, tc := range []struct {
		name   string
		events func(d *deliveries)
		want   DeliveryStats // the counts only
	}{
		{"one after the other, the watch reads once", func(d *deliveries) {
			d.wrote(first, 0, at(0), at(5), true)
			d.wrote(second, 0, at(6), at(9), true)
			d.delivered(0, second, at(12))
		}, DeliveryStats{Expected: 2, Delivered: 1, Superseded: 1}},
		{"the later delivery arrives before either answer", func(d *deliveries) {
			d.delivered(0, second, at(8))
			d.wrote(first, 0, at(0), at(9), true)
			d.wrote(second, 0, at(1), at(10), true)
		}, DeliveryStats{Expected: 2, Delivered: 1, Superseded: 1, BeforeAnswer: 1}},
		{"in flight together, both delivered", func(d *deliveries) {
			d.wrote(first, 0, at(0), at(10), true)
			d.wrote(second, 0, at(1), at(9), true)
			d.delivered(0, second, at(11)) // takes first for superseded ...
			d.delivered(0, first, at(12))  // ... until it arrives
		}, DeliveryStats{Expected: 2, Delivered: 2}},
		{"an earlier write does not supersede a later one", func(d *deliveries) {
			d.wrote(first, 0, at(0), at(5), true)
			d.delivered(0, first, at(6))
			d.wrote(second, 0, at(7), at(9), true)
		}, DeliveryStats{Expected: 2, Delivered: 1, Missing: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := newDeliveries(func(int) int { return 1 })
			tc.events(d)
			s := d.summary()
			s.FromAnswerMS, s.FromSendMS = Percentiles{}, Percentiles{}
			if s != tc.want {
				t.Errorf("summary = %+v, want %+v", s, tc.want)
			}
			if want := tc.want.Missing; d.outstanding() != want {
				t.Errorf("outstanding = %d, want %d", d.outstanding(), want)
			}
		})
	}
}

func TestDeliveriesDrainReturnsWhenAllArrived(t *testing.T) {
	t.Parallel()
	d := newDeliveries(func(int) int { return 1 })
	k := deliveryKey{"t1", "v1"}
	d.wrote(k, 0, at(0), at(1), true)
	go func() {
		time.Sleep(20 * time.Millisecond)
		d.delivered(0, k, time.Now())
	}()
	start := time.Now()
	d.drain(10*time.Second, time.Millisecond)
	if time.Since(start) > 5*time.Second {
		t.Errorf("drain waited %v after the last delivery", time.Since(start))
	}
	if d.outstanding() != 0 {
		t.Errorf("outstanding = %d", d.outstanding())
	}
}

func TestWatchSlotsSpreadOverUsers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ watches, users int }{{1000, 1000}, {10_000, 2000}, {7, 3}, {2, 5}} {
		per := watchesPer(tc.watches, tc.users)
		seen := map[[2]int]bool{}
		count := make([]int, tc.users)
		for i := range tc.watches {
			u, slot := watchSlot(i, tc.users)
			if seen[[2]int{u, slot}] {
				t.Fatalf("%d/%d: watch %d repeats user %d slot %d", tc.watches, tc.users, i, u, slot)
			}
			seen[[2]int{u, slot}] = true
			if slot >= per(u) {
				t.Fatalf("%d/%d: watch %d has slot %d of user %d, who has %d", tc.watches, tc.users, i, slot, u, per(u))
			}
			count[u]++
		}
		for u, c := range count {
			if c != per(u) {
				t.Fatalf("%d/%d: user %d has %d watches, watchesPer says %d", tc.watches, tc.users, u, c, per(u))
			}
		}
	}
}

func TestConnectionsFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ n, per, want int }{{1000, 200, 5}, {10_000, 200, 50}, {1, 200, 1}, {201, 200, 2}, {0, 200, 1}} {
		if got := connectionsFor(tc.n, tc.per); got != tc.want {
			t.Errorf("connectionsFor(%d, %d) = %d, want %d", tc.n, tc.per, got, tc.want)
		}
	}
}
