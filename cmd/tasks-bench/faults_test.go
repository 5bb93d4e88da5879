package main

import (
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/example/tasks/internal/faults"
)

// TestVerdict: a fault run passes only with no violation, every failure
// explained by the fault, and enough cut to prove something.
func TestVerdict(t *testing.T) {
	good := func() faults.Result {
		return faults.Result{Stats: faults.Stats{Acked: 10, InDoubt: 2, Replayed: 1, Codes: map[connect.Code]int{connect.CodeUnavailable: 2}}}
	}
	explained := []connect.Code{connect.CodeUnavailable}
	for _, tc := range []struct {
		name       string
		edit       func(*faults.Result)
		needReplay bool
		pass       bool
	}{
		{"as it should be", func(*faults.Result) {}, true, true},
		{"a violation", func(r *faults.Result) { r.Violations = []string{"lost"} }, true, false},
		{"an unexplained code", func(r *faults.Result) { r.Stats.Codes[connect.CodeInternal] = 1 }, true, false},
		{"nothing in doubt", func(r *faults.Result) { r.Stats.InDoubt, r.Stats.Codes = 0, nil }, true, false},
		{"nothing acknowledged", func(r *faults.Result) { r.Stats.Acked = 0 }, true, false},
		{"no create replayed, needed", func(r *faults.Result) { r.Stats.Replayed = 0 }, true, false},
		{"no create replayed, not needed", func(r *faults.Result) { r.Stats.Replayed = 0 }, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.edit(&r)
			if err := verdict(r, tc.needReplay, explained...); (err == nil) != tc.pass {
				t.Errorf("verdict: %v, want pass %v", err, tc.pass)
			}
		})
	}
}

// TestCallLogBetween: the calls that ended in a window, counted by outcome,
// with the first and last failure.
func TestCallLogBetween(t *testing.T) {
	t0 := time.Now()
	l := &callLog{calls: []loggedCall{
		{at: t0.Add(-time.Second), code: connect.CodeUnavailable}, // before
		{at: t0, code: 0},
		{at: t0.Add(1 * time.Second), code: connect.CodeUnavailable},
		{at: t0.Add(2 * time.Second), code: connect.CodeUnavailable},
		{at: t0.Add(3 * time.Second), code: 0},
		{at: t0.Add(4 * time.Second), code: connect.CodeInternal}, // at the end: after
	}}
	w := l.between(t0, t0.Add(4*time.Second))
	if w.succeeded != 2 || w.failed != 2 || w.codes[connect.CodeUnavailable] != 2 ||
		!w.firstFailure.Equal(t0.Add(time.Second)) || !w.lastFailure.Equal(t0.Add(2*time.Second)) {
		t.Errorf("between: %+v", w)
	}
}
