// Command tasksd serves the Tasks API (tasks.v1.TaskService) over Connect,
// gRPC and gRPC-Web from one HTTP server.
//
//	tasksd [serve] [flags]         run the server (configuration: README.md)
//	tasksd dev [flags]             run locally with no setup: SQLite, a generated secret, a ready token
//	tasksd migrate up|down|status  manage the database schema
//	tasksd token -sub ID [-ttl D]  mint an HS256 token with the configured secret
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tasksd:", err)
		}
		os.Exit(1)
	}
}

// run dispatches a subcommand. It takes its environment as arguments so
// tests can run the binary's logic in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := parseConfig("tasksd serve", args, getenv, parseOptions{})
		if err != nil {
			return err
		}
		if err := cfg.requireAuthSource(); err != nil {
			return err
		}
		return serve(ctx, cfg, stdout, nil)
	case "dev":
		return runDev(ctx, args, getenv, stdout)
	case "migrate":
		return runMigrate(ctx, args, getenv, stdout)
	case "token":
		return runToken(args, getenv, stdout)
	default:
		return fmt.Errorf("unknown command %q (want serve, dev, migrate or token)", cmd)
	}
}
