// Command pgtest runs a throwaway PostgreSQL cluster for tests and
// benchmarks that are not Go tests (the TypeScript harnesses, `make bench`),
// so that there is one way to make one: internal/pgtest's, which the Go
// tests use. It starts a fresh cluster on a free loopback port (as the
// postgres OS user when run as root), writes its URL and postmaster pid to
// the ready file, and runs until SIGINT or SIGTERM, then stops the cluster
// and removes its files. The cluster also dies if pgtest is killed.
//
//	pgtest -ready-file PATH [-log PATH] [-c name=value]...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/example/tasks/internal/pgtest"
	"github.com/example/tasks/internal/readyfile"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		os.Exit(1)
	}
}

// settings collects repeated -c flags.
type settings []string

func (s *settings) String() string     { return fmt.Sprint(*s) }
func (s *settings) Set(v string) error { *s = append(*s, v); return nil }

// run serves a cluster until ctx ends.
func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("pgtest", flag.ContinueOnError)
	ready := fs.String("ready-file", "", "where to write {\"url\", \"pid\"} once the cluster accepts connections (required)")
	logFile := fs.String("log", "", "where the server logs (appended to); default: inside the cluster's directory, removed with it")
	var extra settings
	fs.Var(&extra, "c", "a server setting name=value, as postgres -c takes it; repeatable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ready == "" || fs.NArg() > 0 {
		return errors.New("usage: pgtest -ready-file PATH [-log PATH] [-c name=value]...")
	}
	cluster, err := pgtest.Start(pgtest.Options{Settings: extra, LogFile: *logFile})
	if err != nil {
		return err
	}
	defer cluster.Stop()
	if err := readyfile.Write(*ready, readyfile.Info{URL: cluster.URL(), PID: cluster.PID()}); err != nil {
		return err
	}
	<-ctx.Done()
	return os.Remove(*ready)
}
