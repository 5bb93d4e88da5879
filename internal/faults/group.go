package faults

import (
	"context"
	"errors"
	"sync"
)

// Each runs f for every writer at once, writer i with client(i), and
// returns the violations they reported; other errors are the writers'
// business (a call in doubt is expected in a fault).
func Each(writers []*Writer, client func(i int) Client, f func(*Writer, Client) error) []string {
	var mu sync.Mutex
	var violations []string
	var wg sync.WaitGroup
	for i, w := range writers {
		wg.Go(func() {
			var v *Violation
			if err := f(w, client(i)); errors.As(err, &v) {
				mu.Lock()
				violations = append(violations, v.Error())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return violations
}

// RunDuring runs the writers (Writer.Run, writer i with client(i)) while
// fault runs, stops them once it returns, and returns the violations they
// met: a fault (a kill, say) cuts their calls, and the ones it leaves
// running are cancelled.
func RunDuring(writers []*Writer, client func(i int) Client, fault func()) []string {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan []string)
	go func() {
		done <- Each(writers, client, func(w *Writer, cl Client) error { return w.Run(ctx, cl) })
	}()
	fault()
	stop()
	return <-done
}

// Finish settles the writers (each create still in doubt is sent until
// answered, so a server must be up) and checks the server's tasks against
// their ledgers. The result's violations include those the writers met
// while settling.
func Finish(ctx context.Context, writers []*Writer, client func(i int) Client) (Result, error) {
	violations := Each(writers, client, func(w *Writer, cl Client) error {
		if err := w.Settle(ctx, cl); err != nil && !IsViolation(err) {
			return &Violation{err.Error()} // a create that cannot be answered
		}
		return nil
	})
	if len(violations) > 0 {
		res := Result{Violations: violations}
		for _, w := range writers {
			res.Stats.Add(w.Stats)
		}
		return res, nil
	}
	return Check(ctx, client(0), writers)
}
