package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"connectrpc.com/connect"

	"github.com/example/tasks/internal/faults"
)

// runCrash kills the server with SIGKILL again and again while the
// writers write, then checks that every acknowledged write is there.
func runCrash(ctx context.Context, args []string) error {
	var f faultFlags
	fs := flag.NewFlagSet("tasks-bench crash", flag.ContinueOnError)
	f.register(fs)
	databaseURL := fs.String("database-url", os.Getenv("DATABASE_URL"), "the server's DATABASE_URL: PostgreSQL, or an SQLite file")
	kills := fs.Int("kills", 15, "how many times to kill the server")
	minRun := fs.Duration("min-run", 300*time.Millisecond, "shortest time the server runs before a kill")
	maxRun := fs.Duration("max-run", 1500*time.Millisecond, "longest time the server runs before a kill")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *databaseURL == "" || *maxRun < *minRun {
		return errors.New("need -database-url, and -max-run at least -min-run")
	}
	r, err := f.start("crash")
	if err != nil {
		return err
	}
	defer r.close()
	began := time.Now()
	var violations []string
	var ready []time.Duration
	start := func(k int) (*server, *pool, error) {
		t0 := time.Now()
		srv, p, err := r.startServer(ctx, *databaseURL)
		if err != nil {
			return nil, nil, fmt.Errorf("start %d: %w", k+1, err)
		}
		ready = append(ready, time.Since(t0))
		return srv, p, nil
	}
	for k := range *kills {
		srv, p, err := start(k)
		if err != nil {
			return err
		}
		violations = append(violations, faults.RunDuring(r.writers, clientsOf(p), func() {
			sleep(ctx, *minRun+rand.N(*maxRun-*minRun+1))
			srv.kill()
		})...)
		p.close()
	}
	srv, p, err := start(*kills)
	if err != nil {
		return err
	}
	res, err := r.finish(ctx, p, violations)
	p.close()
	srv.stop()
	if err != nil {
		return err
	}
	slices.Sort(ready)
	fmt.Printf("crash: %d kill -9s under %d writers (%d users) in %v; start to ready: median %v, max %v\n",
		*kills, f.writers, f.users, time.Since(began).Round(100*time.Millisecond),
		ready[len(ready)/2].Round(time.Millisecond), ready[len(ready)-1].Round(time.Millisecond))
	// A kill cuts calls in flight (Unavailable, or Unknown when the
	// connection closes mid-answer); the tool cancels those it does not.
	return verdict(res, true, connect.CodeUnavailable, connect.CodeUnknown, connect.CodeCanceled)
}
