package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync"
	"time"

	"connectrpc.com/connect"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/faults"
	"github.com/example/tasks/internal/pgtest"
)

// runOutage runs the server on a PostgreSQL of its own and, while the
// writers write, restarts PostgreSQL, crashes it, and stops it for a
// while; it reports how the writers' calls fared around each and then
// checks every acknowledged write.
func runOutage(ctx context.Context, args []string) error {
	var f faultFlags
	fs := flag.NewFlagSet("tasks-bench outage", flag.ContinueOnError)
	f.register(fs)
	gap := fs.Duration("gap", 5*time.Second, "normal running before, between and after the events")
	outage := fs.Duration("outage", 10*time.Second, "how long PostgreSQL stays down in the outage")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// synchronous_commit on: a commit PostgreSQL acknowledged survives its
	// crash, as in production.
	cluster, err := pgtest.Start(pgtest.Options{Settings: []string{"synchronous_commit=on"}})
	if err != nil {
		return err
	}
	defer cluster.Stop()
	r, err := f.start("outage")
	if err != nil {
		return err
	}
	defer r.close()
	srv, p, err := r.startServer(ctx, cluster.URL())
	if err != nil {
		return err
	}
	defer srv.stop()
	defer p.close()

	events := []struct {
		name string
		how  pgtest.Shutdown
		down time.Duration
	}{
		{"restart (fast shutdown)", pgtest.Fast, 0},
		{"crash (immediate shutdown, then recovery)", pgtest.Immediate, 0},
		{fmt.Sprintf("outage of %v", *outage), pgtest.Fast, *outage},
	}
	log := &callLog{}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan []string)
	go func() {
		done <- faults.Each(r.writers, clientsOf(p), func(w *faults.Writer, cl faults.Client) error {
			cl = &callRecorder{Client: cl, log: log}
			for runCtx.Err() == nil {
				if err := w.Run(runCtx, cl); faults.IsViolation(err) {
					return err
				} else if err != nil {
					sleep(runCtx, 20*time.Millisecond)
				}
			}
			return nil
		})
	}()
	type span struct{ stopped, ready time.Time }
	spans := make([]span, len(events))
	sleep(ctx, *gap)
	var failed error
	for i, ev := range events {
		spans[i].stopped = time.Now()
		if err := cluster.Restart(ev.how, ev.down); err != nil {
			failed = fmt.Errorf("%s: %w", ev.name, err)
			break
		}
		spans[i].ready = time.Now()
		sleep(ctx, *gap)
	}
	ended := time.Now()
	stop()
	violations := <-done
	if failed == nil {
		failed = ctx.Err()
	}
	if failed != nil {
		return failed
	}

	fmt.Printf("outage: PostgreSQL restarted, crashed and stopped under %d writers (%d users); times from the moment PostgreSQL was told to stop\n", f.writers, f.users)
	for i, ev := range events {
		end := ended
		if i+1 < len(spans) {
			end = spans[i+1].stopped
		}
		s := log.between(spans[i].stopped, end)
		since := func(t time.Time) time.Duration { return t.Sub(spans[i].stopped).Round(time.Millisecond) }
		fmt.Printf("  %s: PostgreSQL back after %v; %d calls failed (%s)", ev.name,
			since(spans[i].ready), s.failed, codeCounts(s.codes))
		if s.failed > 0 {
			fmt.Printf(" from %v to %v", since(s.firstFailure), since(s.lastFailure))
		}
		fmt.Printf("; %d succeeded\n", s.succeeded)
	}
	select {
	case <-srv.exited:
		return errors.New("the server exited during the outages")
	default:
	}
	res, err := r.finish(ctx, p, violations)
	if err != nil {
		return err
	}
	// PostgreSQL down is Unavailable; the tool cancels the calls in
	// flight when it stops. Creates are rarely made and left unanswered
	// here (the server itself stays up), so none need have been.
	return verdict(res, false, connect.CodeUnavailable, connect.CodeCanceled)
}

// callLog is when the writers' calls ended, and how.
type callLog struct {
	mu    sync.Mutex
	calls []loggedCall
}

type loggedCall struct {
	at   time.Time
	code connect.Code // 0: succeeded
}

func (l *callLog) note(err error) {
	c := loggedCall{at: time.Now()}
	if err != nil {
		c.code = connect.CodeOf(err)
	}
	l.mu.Lock()
	l.calls = append(l.calls, c)
	l.mu.Unlock()
}

type outcomes struct {
	succeeded, failed int
	codes             map[connect.Code]int
	firstFailure      time.Time
	lastFailure       time.Time
}

// between sums the calls that ended in [from, to).
func (l *callLog) between(from, to time.Time) outcomes {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := outcomes{codes: map[connect.Code]int{}}
	for _, c := range l.calls {
		switch {
		case c.at.Before(from) || !c.at.Before(to):
		case c.code == 0:
			w.succeeded++
		default:
			w.failed++
			w.codes[c.code]++
			if w.failed == 1 {
				w.firstFailure = c.at
			}
			w.lastFailure = c.at
		}
	}
	return w
}

// callRecorder logs the end of each write.
type callRecorder struct {
	faults.Client
	log *callLog
}

func (r *callRecorder) CreateTask(ctx context.Context, req *tasksv1.CreateTaskRequest) (*tasksv1.CreateTaskResponse, error) {
	resp, err := r.Client.CreateTask(ctx, req)
	r.log.note(err)
	return resp, err
}

func (r *callRecorder) UpdateTask(ctx context.Context, req *tasksv1.UpdateTaskRequest) (*tasksv1.UpdateTaskResponse, error) {
	resp, err := r.Client.UpdateTask(ctx, req)
	r.log.note(err)
	return resp, err
}

func (r *callRecorder) DeleteTask(ctx context.Context, req *tasksv1.DeleteTaskRequest) (*tasksv1.DeleteTaskResponse, error) {
	resp, err := r.Client.DeleteTask(ctx, req)
	r.log.note(err)
	return resp, err
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
