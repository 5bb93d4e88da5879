package main

import (
	"math/bits"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// deliveryKey names one state of one task: what a write answered with, and
// what a watch delivers. The etag changes with every write, so a key is
// one write's result.
type deliveryKey struct{ task, etag string }

// trackedWrite is a write whose change the user's watches should deliver.
type trackedWrite struct {
	key            deliveryKey
	sent, answered time.Time
	measured       bool   // sent after the warm-up
	want           int    // the user's watches
	got            uint64 // a bit per watch slot that delivered it
	replaced       uint64 // a bit per slot that delivered a later write to the task instead
}

// earlyDelivery is a delivery of a key no write has claimed yet: the watch
// was quicker than the write's answer, or the write is not the tool's.
type earlyDelivery struct {
	slot int
	at   time.Time
}

// maxSlots bounds the watches per user the tracker tells apart: the bits
// of trackedWrite.got (the server allows 16 by default).
const maxSlots = 64

// deliveries matches the tool's writes with what the watches deliver, by
// task id and etag, and records each delivery's delay: from the moment
// the writer had the write's answer (the commit happened before it was
// sent, so this is the delay a client that just saved would see its other
// tabs lag by), and from the moment the write was sent (an upper bound:
// it adds the write's own latency). A delivery may arrive before the
// writer has the answer; it is then held until the write is reported, its
// delay from the answer counted as zero and BeforeAnswer counting it.
//
// Watches are numbered by slot within their user (0 .. the user's watches
// - 1). WatchTasks sends each task's latest state, so when two writes to
// one task commit before a watch reads them, the watch delivers only the
// last to commit: the other is then "superseded", not missing.
type deliveries struct {
	watchesOf func(user int) int

	mu         sync.Mutex
	writes     map[deliveryKey]*trackedWrite
	byTask     map[string][]*trackedWrite
	early      map[deliveryKey][]earlyDelivery
	fromAnswer *hdrhistogram.Histogram
	fromSend   *hdrhistogram.Histogram
	pending    int64 // measured deliveries still expected
	stats      DeliveryStats
}

// DeliveryStats is what the watches delivered of the measured writes.
type DeliveryStats struct {
	// Expected is the measured writes times their user's watches;
	// Delivered of them arrived, Superseded were replaced by a later
	// write to the same task before the watch read them, Missing never
	// arrived.
	Expected, Delivered, Superseded, Missing int64
	// BeforeAnswer deliveries arrived before the write's answer did.
	BeforeAnswer int64 `json:"before_answer"`
	// Duplicates delivered a change the watch had already delivered;
	// Unmatched delivered a task state no write of the tool answered with.
	Duplicates, Unmatched int64
	// FromAnswerMS is the delay from the writer receiving the answer to
	// the watch receiving the change; FromSendMS from the writer sending
	// the write.
	FromAnswerMS Percentiles `json:"from_answer_ms"`
	FromSendMS   Percentiles `json:"from_send_ms"`
}

// newDeliveries tracks writes to users that have watchesOf(user) watches.
func newDeliveries(watchesOf func(user int) int) *deliveries {
	return &deliveries{
		watchesOf:  watchesOf,
		writes:     make(map[deliveryKey]*trackedWrite),
		byTask:     make(map[string][]*trackedWrite),
		early:      make(map[deliveryKey][]earlyDelivery),
		fromAnswer: newHistogram(),
		fromSend:   newHistogram(),
	}
}

// wrote reports that a write to user's tasks, sent at sent, answered with
// key at answered.
func (d *deliveries) wrote(key deliveryKey, user int, sent, answered time.Time, measured bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	w := &trackedWrite{key: key, sent: sent, answered: answered, measured: measured, want: min(d.watchesOf(user), maxSlots)}
	if _, dup := d.writes[key]; dup {
		return // a create repeated with the same request id: one change
	}
	d.writes[key] = w
	d.byTask[key.task] = append(d.byTask[key.task], w)
	if measured {
		d.stats.Expected += int64(w.want)
		d.pending += int64(w.want)
	}
	for _, e := range d.early[key] {
		d.match(w, e.slot, e.at)
	}
	delete(d.early, key)
	// A write to the task that may have committed after this one may have
	// reached watches already, before this one was reported: they will not
	// deliver this one.
	all := uint64(1)<<w.want - 1
	for _, o := range d.byTask[key.task] {
		if o != w && mayFollow(o, w) {
			if n := o.got &^ (w.got | w.replaced) & all; n != 0 {
				w.replaced |= n
				c := int64(bits.OnesCount64(n))
				d.count(w, -c, c)
			}
		}
	}
}

// delivered reports that the watch in slot delivered key at at.
func (d *deliveries) delivered(slot int, key deliveryKey, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w := d.writes[key]; w != nil {
		d.match(w, slot, at)
		return
	}
	d.early[key] = append(d.early[key], earlyDelivery{slot, at})
}

func (d *deliveries) match(w *trackedWrite, slot int, at time.Time) {
	if slot < 0 || slot >= w.want {
		d.stats.Unmatched++
		return
	}
	bit := uint64(1) << slot
	if w.got&bit != 0 {
		d.stats.Duplicates++
		return
	}
	w.got |= bit
	if w.replaced&bit != 0 {
		// Taken for replaced by a write sent later that committed first.
		w.replaced &^= bit
		d.count(w, 1, -1)
	}
	// Writes to the task that may have committed before this one and that
	// this watch has not delivered never will: it reads a task's latest
	// state.
	for _, o := range d.byTask[w.key.task] {
		if o != w && mayFollow(w, o) && slot < o.want && (o.got|o.replaced)&bit == 0 {
			o.replaced |= bit
			d.count(o, -1, 1)
		}
	}
	if !w.measured {
		return
	}
	d.stats.Delivered++
	d.pending--
	fromAnswer := at.Sub(w.answered)
	if fromAnswer < 0 {
		d.stats.BeforeAnswer++
		fromAnswer = 0
	}
	_ = d.fromAnswer.RecordValue(max(fromAnswer.Microseconds(), histMin))
	_ = d.fromSend.RecordValue(max(at.Sub(w.sent).Microseconds(), histMin))
}

// mayFollow tells whether write a may have committed after write b: unless
// a was answered before b was sent. (Etags are opaque, so the order of two
// writes in flight at once is unknown; either may have superseded the
// other.)
func mayFollow(a, b *trackedWrite) bool { return a.answered.After(b.sent) }

// count moves a measured write's delivery into or out of the superseded.
func (d *deliveries) count(w *trackedWrite, pending, superseded int64) {
	if w.measured {
		d.pending += pending
		d.stats.Superseded += superseded
	}
}

// outstanding is the number of measured deliveries not yet made.
func (d *deliveries) outstanding() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pending
}

// drain waits until every measured delivery has arrived, or for at most
// grace, polling every tick.
func (d *deliveries) drain(grace, tick time.Duration) {
	deadline := time.Now().Add(grace)
	for d.outstanding() > 0 && time.Now().Before(deadline) {
		time.Sleep(tick)
	}
}

// summary is what was delivered so far; deliveries not made, and not
// superseded, are missing.
func (d *deliveries) summary() DeliveryStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stats
	for _, w := range d.writes {
		if !w.measured {
			continue
		}
		for slot := range w.want {
			if (w.got|w.replaced)&(uint64(1)<<slot) == 0 {
				s.Missing++
			}
		}
	}
	for _, es := range d.early {
		s.Unmatched += int64(len(es))
	}
	s.FromAnswerMS = percentiles(d.fromAnswer)
	s.FromSendMS = percentiles(d.fromSend)
	return s
}
