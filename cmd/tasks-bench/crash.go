package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/example/tasks/internal/faults"
)

// faultFlags are what the fault commands (crash, outage) share: the
// server binary and the writers.
type faultFlags struct {
	serverBin, serverEnv, serverLog string
	writers, users                  int
}

func (f *faultFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.serverBin, "server", "", "the tasksd binary to run (required)")
	fs.StringVar(&f.serverEnv, "server-env", "", "comma-separated KEY=VALUE settings for the server")
	fs.StringVar(&f.serverLog, "server-log", "", "file for the server's log (default: stderr)")
	fs.IntVar(&f.writers, "writers", 16, "concurrent writers")
	fs.IntVar(&f.users, "users", 4, "users the writers share")
}

// faultRun is one fault command's server side: its JWKS and its writers.
type faultRun struct {
	faultFlags
	jwksURL string
	writers []*faults.Writer
	close   func()
}

func (f *faultFlags) start(prefix string) (*faultRun, error) {
	if f.serverBin == "" || f.writers < 1 || f.users < 1 {
		return nil, errors.New("need -server, and -writers and -users of at least 1")
	}
	id, err := loadIdentity("")
	if err != nil {
		return nil, err
	}
	ln, jwksURL, err := id.serveJWKS("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &faultRun{faultFlags: *f, jwksURL: jwksURL, close: func() { ln.Close() }}
	seed := uint64(time.Now().UnixNano())
	for i := range f.writers {
		user := fmt.Sprintf("%s-user-%02d", prefix, i%f.users)
		r.writers = append(r.writers, faults.NewWriter(user, mustToken(id, user), fmt.Sprintf("w%02d", i), seed+uint64(i)))
	}
	return r, nil
}

func (r *faultRun) startServer(ctx context.Context, databaseURL string) (*server, *pool, error) {
	srv, err := startServer(ctx, serverConfig{
		bin: r.serverBin, databaseURL: databaseURL, jwksURL: r.jwksURL,
		dbMaxConns: 16, logFile: r.serverLog, extraEnv: splitEnv(r.serverEnv),
	})
	if err != nil {
		return nil, nil, err
	}
	p, err := newPool(srv.url, "connect-proto", 4, false)
	if err != nil {
		srv.stop()
		return nil, nil, err
	}
	return srv, p, nil
}

// each runs f for every writer at once, each with a connection of p.
func (r *faultRun) each(p *pool, f func(*faults.Writer, faults.Client) error) []string {
	return faults.Each(r.writers, func(i int) faults.Client { return p.client(i) }, f)
}

// finish settles the writers and checks the server's tasks against their
// ledgers, adding the violations the writers met before.
func (r *faultRun) finish(ctx context.Context, p *pool, violations []string) (faults.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := faults.Finish(ctx, r.writers, func(i int) faults.Client { return p.client(i) })
	res.Violations = append(violations, res.Violations...)
	return res, err
}

// verdict prints what the check found and fails when anything was wrong.
func verdict(res faults.Result) error {
	fmt.Printf("  %d writes acknowledged, %d in doubt (%s)\n", res.Stats.Acked, res.Stats.InDoubt, codeCounts(res.Stats.Codes))
	fmt.Printf("  checked: %d tasks held, %d acknowledged and not deleted since\n", res.Tasks, res.Expected)
	if len(res.Violations) == 0 {
		fmt.Println("  no acknowledged write lost or undone, no create applied twice")
		return nil
	}
	for _, v := range res.Violations {
		fmt.Println("  VIOLATION:", v)
	}
	return fmt.Errorf("%d violations", len(res.Violations))
}

func codeCounts(m map[connect.Code]int) string {
	if len(m) == 0 {
		return "none failed"
	}
	var parts []string
	for c, n := range m {
		parts = append(parts, fmt.Sprintf("%v %d", c, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

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
	for k := 0; ; k++ {
		t0 := time.Now()
		srv, p, err := r.startServer(ctx, *databaseURL)
		if err != nil {
			return fmt.Errorf("start %d: %w", k+1, err)
		}
		ready = append(ready, time.Since(t0))
		if k == *kills {
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
			return verdict(res)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan []string)
		go func() {
			done <- r.each(p, func(w *faults.Writer, cl faults.Client) error { return w.Run(runCtx, cl) })
		}()
		time.Sleep(*minRun + rand.N(*maxRun-*minRun+1))
		srv.kill()
		stop() // writers whose call the kill did not cut stop too
		violations = append(violations, <-done...)
		p.close()
	}
}
