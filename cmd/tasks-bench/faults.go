package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
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
	seed                            uint64
}

func (f *faultFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.serverBin, "server", "", "the tasksd binary to run (required)")
	fs.StringVar(&f.serverEnv, "server-env", "", "comma-separated KEY=VALUE settings for the server")
	fs.StringVar(&f.serverLog, "server-log", "", "file for the server's log (default: stderr)")
	fs.IntVar(&f.writers, "writers", 16, "concurrent writers")
	fs.IntVar(&f.users, "users", 4, "users the writers share")
	fs.Uint64Var(&f.seed, "seed", 0, "the writers' choices (0: from the clock; a run prints its seed)")
}

// faultRun is one fault command's server side: its JWKS and its writers.
type faultRun struct {
	server  serverConfig // every start's, but for the database
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
	r := &faultRun{
		server: serverConfig{
			bin: f.serverBin, jwksURL: jwksURL, dbMaxConns: 16,
			logFile: f.serverLog, extraEnv: splitEnv(f.serverEnv),
		},
		close: func() { ln.Close() },
	}
	seed := f.seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	fmt.Printf("writers' seed: %d\n", seed)
	for i := range f.writers {
		user := fmt.Sprintf("%s-user-%02d", prefix, i%f.users)
		r.writers = append(r.writers, faults.NewWriter(user, mustToken(id, user), fmt.Sprintf("w%02d", i), seed+uint64(i)))
	}
	return r, nil
}

func (r *faultRun) startServer(ctx context.Context, databaseURL string) (*server, *pool, error) {
	cfg := r.server
	cfg.databaseURL = databaseURL
	srv, err := startServer(ctx, cfg)
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

// clientsOf gives writer i connection i of p (modulo its size).
func clientsOf(p *pool) func(i int) faults.Client {
	return func(i int) faults.Client { return p.client(i) }
}

// finish settles the writers and checks the server's tasks against their
// ledgers, adding the violations the writers met before.
func (r *faultRun) finish(ctx context.Context, p *pool, violations []string) (faults.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := faults.Finish(ctx, r.writers, clientsOf(p))
	res.Violations = append(violations, res.Violations...)
	return res, err
}

// verdict prints what the check found and fails when anything was wrong:
// a violation, a failed call with a code the fault does not explain (a
// server error where it should have said Unavailable), or a run in which
// no call was cut or (with needReplay) no create in doubt had been made,
// which proved little.
func verdict(res faults.Result, needReplay bool, explained ...connect.Code) error {
	fmt.Printf("  %d writes acknowledged, %d in doubt (%s); %d creates in doubt had been made and were answered with their task when sent again\n",
		res.Stats.Acked, res.Stats.InDoubt, codeCounts(res.Stats.Codes), res.Stats.Replayed)
	fmt.Printf("  checked: %d tasks held, %d acknowledged and not deleted since\n", res.Tasks, res.Expected)
	var problems []string
	for c, n := range res.Stats.Codes {
		if !slices.Contains(explained, c) {
			problems = append(problems, fmt.Sprintf("%d calls failed %v, which the fault does not explain", n, c))
		}
	}
	if res.Stats.Acked == 0 || res.Stats.InDoubt == 0 || (needReplay && res.Stats.Replayed == 0) {
		problems = append(problems, "the run proved little: no write acknowledged, none in doubt, or no create in doubt that had been made")
	}
	slices.Sort(problems)
	problems = append(problems, res.Violations...)
	if len(problems) == 0 {
		fmt.Println("  no acknowledged write lost or undone, no create applied twice")
		return nil
	}
	for _, p := range problems {
		fmt.Println("  FAILED:", p)
	}
	return fmt.Errorf("%d problems", len(problems))
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
